// bench/smtpblast_sink.cc — see smtpblast_sink.h: set-up, the loop, feeding
// sessions, choosing and sending the end-of-data replies, the summary. The
// socket plumbing is in smtpblast_sink_io.cc.
#include "bench/smtpblast_sink.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bench/smtpblast_clock.h"
#include "bench/smtpblast_signal.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/listener.h"

namespace ringmta::blast {
namespace {

constexpr int64_t kTickUs = 250'000;              // signals and deadlines are seen this fast
constexpr int64_t kExpectGraceNs = 500'000'000;   // after --expect: time for QUITs
// Without a newline, a line this long cannot be a command we would delay.
constexpr size_t kMaxPeek = 1024;

}  // namespace

Sink::Sink(const Options& options) : _opts(options), _random(options.seed) {}

bool Sink::setup() {
  absl::StatusOr<Endpoint> ep = parse_endpoint(_opts.listen);
  if (!ep.ok()) {
    std::fprintf(stderr, "smtpblast: --listen: %s\n", std::string(sv(ep.status().message())).c_str());
    return false;
  }
  absl::StatusOr<int> fd = open_listener(*ep);
  if (!fd.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", fd.status().ToString().c_str());
    return false;
  }
  _listen_fd = *fd;
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::create(4096);
  if (!ring.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", ring.status().ToString().c_str());
    return false;
  }
  _ring = std::move(*ring);
  // 512 x 16 KiB: a pipelining client's MAIL+RCPT+BDAT+body fits one buffer.
  absl::StatusOr<std::unique_ptr<BufferRing>> br = BufferRing::create(_ring->raw(), 0, 512, 16384);
  if (!br.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", br.status().ToString().c_str());
    return false;
  }
  _buffers = std::move(*br);

  _session_config.hostname = _opts.hostname;
  if (!_opts.tls_cert.empty()) {
    TlsOptions tls;
    tls.cert_file = _opts.tls_cert;
    tls.key_file = _opts.tls_key;
    absl::StatusOr<std::unique_ptr<TlsContext>> ctx = TlsContext::server(tls);
    if (!ctx.ok()) {
      std::fprintf(stderr, "smtpblast: --tls-cert/--tls-key: %s\n",
                   std::string(sv(ctx.status().message())).c_str());
      return false;
    }
    _tls = std::move(*ctx);
    _session_config.starttls_available = true;
    _stats.tls = true;
  }
  // Ids of up to 15 characters stay in std::string's inline buffer: no
  // allocation per message.
  _session_config.new_queue_id = [this] {
    char buf[16];
    auto r = std::to_chars(buf, buf + 15, ++_queue_ids, 16);
    return std::string(buf, r.ptr);
  };
  std::vector<ReplyWeight> mix = _opts.reply_mix;
  if (mix.empty()) {
    mix.push_back({250, 1});
  }
  for (const ReplyWeight& w : mix) {
    MixReply m;
    m.code = w.code;
    _mix_total += w.weight;
    m.cumulative = _mix_total;
    if (w.code != 250) {
      m.line = absl::StrCat(w.code, " ", w.code / 100, ".0.0 sink: reply mix\r\n");
    }
    _mix.push_back(std::move(m));
  }
  if (_mix_total == 0) {
    std::fprintf(stderr, "smtpblast: --reply-mix: the weights add up to 0\n");
    return false;
  }
  for (const CommandDelay& d : _opts.delays) {
    if (d.verb == "CONNECT") {
      _connect_delay = d.ms;
    } else if (d.verb == "DATA") {
      _data_delay = d.ms;
    } else {
      _command_delays = true;
    }
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                         : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  std::printf("sink: listening on %s:%u\n", peer_text(reinterpret_cast<sockaddr*>(&addr)).c_str(), port);
  std::fflush(stdout);
  return true;
}

int Sink::run() {
  if (!setup()) {
    return 1;
  }
  arm_accept();
  const int64_t start = mono_ns();
  for (;;) {
    if (g_stop_signal != 0) {
      return finish(_opts.expect == 0 ? 0 : 1, "stopped by a signal");
    }
    const int64_t now = mono_ns();
    if (_exit_at_ns != 0 && (_open == 0 || now >= _exit_at_ns)) {
      return finish(0, nullptr);
    }
    if (_opts.timeout_s > 0 && now - start >= static_cast<int64_t>(_opts.timeout_s * 1e9)) {
      return finish(1, "timed out");
    }
    _ring->submit_and_wait(1, kTickUs);
    _ring->for_each_cqe([this](io_uring_cqe* cqe) { on_cqe(cqe); });
    _buffers->flush();
  }
}

uint32_t Sink::delay_for(std::string_view line) const {
  size_t end = line.find_first_of(" \r\n");
  std::string_view verb = line.substr(0, end);
  for (const CommandDelay& d : _opts.delays) {
    if (d.verb != "CONNECT" && d.verb != "DATA" && absl::EqualsIgnoreCase(av(verb), d.verb)) {
      return d.ms;
    }
  }
  return 0;
}

// feed hands input to the session and answers each finished message; it
// stops at a held reply. Without command delays the session gets all the
// input at once; with them, one command line at a time, so that a held
// reply keeps every later reply behind it.
size_t Sink::feed(uint32_t slot, std::string_view in) {
  Conn& c = _conns[slot];
  proto::ServerSession& s = *c.session;
  size_t pos = 0;
  while (pos < in.size() && c.hold == Hold::kNone && !s.closing()) {
    std::string_view rest = in.substr(pos);
    size_t used;
    if (_command_delays && !s.in_message()) {
      const auto* nl = static_cast<const char*>(std::memchr(rest.data(), '\n', rest.size()));
      if (nl == nullptr && rest.size() < kMaxPeek) {
        break;  // wait for the whole line
      }
      const size_t n = nl == nullptr ? rest.size() : static_cast<size_t>(nl - rest.data()) + 1;
      if (!c.line_released) {
        if (uint32_t ms = delay_for(rest.substr(0, n)); ms > 0) {
          hold(slot, Hold::kCommand, ms);
          break;
        }
      }
      c.line_released = false;
      used = s.consume(rest.substr(0, n));
    } else {
      used = s.consume(rest);
    }
    pos += used;
    if (s.message_ready()) {
      on_message(slot);
    } else if (used == 0) {
      break;
    }
  }
  return pos;
}

void Sink::run_session(uint32_t slot) {
  Conn& c = _conns[slot];
  while (c.hold == Hold::kNone && !c.pending.empty() && !c.session->closing()) {
    size_t used = feed(slot, c.pending);
    c.pending.erase(0, used);
    if (used == 0) {
      break;
    }
  }
  if (c.session->wants_tls() && !c.tls && !c.shut) {
    start_tls(slot);
  }
  if (c.session->closing()) {
    c.pending.clear();
  }
  flush(slot);
}

uint64_t Sink::next_random() {
  // splitmix64: tiny, fast, and the same sequence for the same --seed.
  uint64_t z = (_random += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// choose picks the reply for the next end of data: -1 is 421 and a close.
int Sink::choose() {
  if (_opts.disconnect_rate > 0 &&
      static_cast<double>(next_random() >> 11) * 0x1.0p-53 < _opts.disconnect_rate) {
    return -1;
  }
  if (_mix.size() == 1) {
    return _mix[0].code == 421 ? -1 : 0;
  }
  const uint64_t r = next_random() % _mix_total;
  int i = 0;
  while (r >= _mix[static_cast<size_t>(i)].cumulative) {
    ++i;
  }
  return _mix[static_cast<size_t>(i)].code == 421 ? -1 : i;
}

void Sink::on_message(uint32_t slot) {
  ++_stats.messages;
  if (_conns[slot].session->tls_active()) {
    ++_stats.tls_messages;
  }
  _stats.seconds = static_cast<double>(mono_ns() - _first_ns) / 1e9;
  const int choice = choose();
  if (_data_delay > 0) {
    _conns[slot].held_choice = choice;
    hold(slot, Hold::kEndOfData, _data_delay);
    return;
  }
  answer(slot, choice);
}

// answer ends the waiting message without storing it. The session has one
// reply of its own for that (on_stored's 250); other codes replace it in
// the output, which is ours to edit until it is sent.
void Sink::answer(uint32_t slot, int choice) {
  proto::ServerSession& s = *_conns[slot].session;
  if (choice < 0) {
    s.on_shutdown();  // queues 421 and closes; on_stored then says nothing
    s.on_stored();
    ++_stats.disconnects;
    ++_stats.codes[421];
    return;
  }
  const MixReply& m = _mix[static_cast<size_t>(choice)];
  std::string& out = s.output();
  const size_t before = out.size();
  s.on_stored();
  if (!m.line.empty()) {
    out.resize(before);
    out.append(m.line);
  }
  ++_stats.codes[static_cast<size_t>(m.code)];
  if (m.code >= 200 && m.code < 300) {
    const int64_t now = mono_ns();
    _stats.last_accepted_unix = unix_s();
    if (++_stats.accepted == _opts.expect) {
      std::printf("sink: %llu messages, last at %.6f (%.3f s after the first connection)\n",
                  static_cast<unsigned long long>(_stats.accepted), _stats.last_accepted_unix,
                  static_cast<double>(now - _first_ns) / 1e9);
      std::fflush(stdout);
      _exit_at_ns = now + kExpectGraceNs;
    }
  }
}

void Sink::on_timer(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut) {
    return;
  }
  const Hold what = c.hold;
  c.hold = Hold::kNone;
  if (what == Hold::kCommand) {
    c.line_released = true;
  } else if (what == Hold::kEndOfData) {
    answer(slot, c.held_choice);
  }
  run_session(slot);
}

int Sink::finish(int status, const char* why) {
  if (why != nullptr) {
    std::printf("sink: %s\n", why);
  }
  _stats.cpu_seconds = process_cpu_seconds();
  print_sink_summary(stdout, _stats);
  std::fflush(stdout);
  if (!_opts.json_path.empty()) {
    absl::Status st = write_sink_json(_opts.json_path, _stats);
    if (!st.ok()) {
      std::fprintf(stderr, "smtpblast: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  return status;
}

}  // namespace ringmta::blast
