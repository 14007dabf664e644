// bench/smtpblast_client.cc — see smtpblast_client.h: set-up, the loop,
// which message goes where and when, results and the summary. The socket
// plumbing is in smtpblast_client_io.cc.
#include "bench/smtpblast_client.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "bench/smtpblast_clock.h"
#include "bench/smtpblast_signal.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::blast {
namespace {

constexpr int64_t kTickNs = 250'000'000;       // the longest the loop sleeps
constexpr int64_t kQuitGraceNs = 1'000'000'000;  // wait for 221s, then leave

}  // namespace

Client::Client(const Options& options) : _opts(options), _progress(options.quiet) {}

bool Client::setup() {
  absl::StatusOr<Endpoint> ep = parse_endpoint(_opts.server);
  if (!ep.ok()) {
    std::fprintf(stderr, "smtpblast: --server: %s\n", std::string(sv(ep.status().message())).c_str());
    return false;
  }
  _server = *ep;
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::create(std::clamp(_opts.connections * 4, 256u, 4096u));
  if (!ring.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", ring.status().ToString().c_str());
    return false;
  }
  _ring = std::move(*ring);
  // Replies are small: 1024 buffers of 4 KiB absorb every connection's
  // burst of pipelined replies with room to spare.
  absl::StatusOr<std::unique_ptr<BufferRing>> br = BufferRing::create(_ring->raw(), 0, 1024, 4096);
  if (!br.ok()) {
    std::fprintf(stderr, "smtpblast: %s\n", br.status().ToString().c_str());
    return false;
  }
  _buffers = std::move(*br);
  _client_config.helo_name = _opts.helo;
  _client_config.use_pipelining = _opts.pipelining;
  if (_opts.tls) {
    // Required, not opportunistic: a run meant to measure TLS must never
    // measure plaintext without saying so.
    _client_config.tls = proto::TlsPolicy::kRequired;
    TlsOptions tls;
    tls.cipher_list = _opts.tls_ciphers;
    if (!_opts.tls_version.empty()) {
      tls.min_version = tls.max_version = _opts.tls_version == "1.2" ? TlsVersion::tls12 : TlsVersion::tls13;
    }
    absl::StatusOr<std::unique_ptr<TlsContext>> ctx = TlsContext::client(tls);
    if (!ctx.ok()) {
      std::fprintf(stderr, "smtpblast: --tls: %s\n", std::string(sv(ctx.status().message())).c_str());
      return false;
    }
    _tls = std::move(*ctx);
    _stats.tls = true;
  }
  _template = make_message(_opts.size, _opts.from, _opts.to);

  std::vector<std::string> rcpts;
  const size_t at = _opts.to.find('@');
  for (uint32_t i = 0; i < _opts.recipients; ++i) {
    rcpts.push_back(i == 0 ? _opts.to
                           : absl::StrCat(_opts.to.substr(0, at), "+", i, _opts.to.substr(at)));
  }
  // Sized once: messages hold views of each connection's headers.
  _conns.resize(_opts.connections);
  for (Conn& c : _conns) {
    c.headers = _template.headers;
    c.message.sender = _opts.from;
    c.message.recipients = rcpts;
    c.message.trace_headers = c.headers;
    c.message.body = _template.body;
  }
  _stats.open_loop = _opts.rate > 0;
  if (_opts.rate > 0) {
    _interval_ns = 1e9 / _opts.rate;
    _total = _opts.duration_s > 0 ? static_cast<uint64_t>(std::llround(_opts.rate * _opts.duration_s))
                                  : _opts.messages;
  } else {
    _total = _opts.duration_s > 0 ? 0 : _opts.messages;
  }
  _stats.target = _total;
  return true;
}

int Client::run() {
  if (!setup()) {
    return 1;
  }
  _start_ns = mono_ns();
  _send_until_ns = _start_ns + static_cast<int64_t>(_opts.duration_s * 1e9);
  _deadline_ns = _start_ns + static_cast<int64_t>(_opts.timeout_s * 1e9);
  // No more connections than messages: --no-reuse counts them.
  const uint64_t first = _total > 0 ? std::min<uint64_t>(_total, _conns.size()) : _conns.size();
  for (uint32_t slot = 0; slot < first; ++slot) {
    connect(slot);
  }
  loop();
  return finish();
}

void Client::loop() {
  for (;;) {
    int64_t now = mono_ns();
    if (g_stop_signal != 0) {
      _stats.interrupted = true;
      stop("interrupted by a signal");
      return;
    }
    if (now >= _deadline_ns) {
      _stats.timed_out = true;
      stop("timed out");
      return;
    }
    if (_stopping) {
      return;
    }
    if (!more_work() && _stats.completed == _stats.dispatched) {
      if (_open == 0) {
        return;
      }
      if (_drain_until_ns == 0) {
        _drain_until_ns = now + kQuitGraceNs;
      } else if (now >= _drain_until_ns) {
        return;  // a server that does not answer QUIT costs nothing measured
      }
    }
    const int64_t wait_ns = std::max<int64_t>(0, next_wake_ns() - now);
    _ring->submit_and_wait(1, wait_ns / 1000);
    _ring->for_each_cqe([this](io_uring_cqe* cqe) { on_cqe(cqe); });
    _buffers->flush();
    now = mono_ns();
    for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
      Conn& c = _conns[slot];
      if (c.retry_at_ns != 0 && now >= c.retry_at_ns) {
        c.retry_at_ns = 0;
        connect(slot);
      }
    }
    dispatch_due();
    _progress.tick(now, _stats.completed, _stats.connection_errors + _stats.no_reply);
  }
}

int64_t Client::next_wake_ns() const {
  int64_t t = std::min(mono_ns() + kTickNs, _deadline_ns);
  if (_interval_ns > 0 && _stats.dispatched < _total) {
    t = std::min(t, _start_ns + static_cast<int64_t>(static_cast<double>(_stats.dispatched) * _interval_ns));
  }
  for (const Conn& c : _conns) {
    if (c.retry_at_ns != 0) {
      t = std::min(t, c.retry_at_ns);
    }
  }
  if (_drain_until_ns != 0) {
    t = std::min(t, _drain_until_ns);
  }
  return t;
}

bool Client::more_work() const {
  if (_total > 0) {
    return _stats.dispatched < _total;
  }
  return mono_ns() < _send_until_ns;
}

bool Client::take_work(int64_t* start_ns) {
  if (_stopping || !more_work()) {
    return false;
  }
  *start_ns = 0;
  if (_interval_ns > 0) {
    const int64_t due = _start_ns + static_cast<int64_t>(static_cast<double>(_stats.dispatched) * _interval_ns);
    if (due > mono_ns()) {
      return false;
    }
    *start_ns = due;
  }
  ++_stats.dispatched;
  return true;
}

bool Client::start_message(uint32_t slot) {
  Conn& c = _conns[slot];
  int64_t start = 0;
  if (!take_work(&start)) {
    return false;
  }
  patch_message_id(&c.headers, _template.id_offset, ++_next_id);
  if (_opts.domains > 1) {
    // d<N>.DOMAIN for this message's recipients (routing and shaping benchmarks).
    const size_t at = _opts.to.find('@');
    const std::string domain = absl::StrCat("@d", _next_id % _opts.domains, ".", _opts.to.substr(at + 1));
    for (std::string& r : c.message.recipients) {
      r.replace(r.find('@'), std::string::npos, domain);
    }
  }
  c.in_txn = true;
  c.stamped = false;
  c.start_ns = start;
  ++c.on_conn;
  if (c.tls) {
    ++_stats.tls_messages;  // the session is ready only after STARTTLS and the new EHLO
  }
  c.session->send_message(c.message);
  return true;
}

// drive moves a connection on after input, a send, or a due message: take
// a finished result, start the next message, QUIT when done, send, close.
void Client::drive(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut) {
    release(slot);
    return;
  }
  proto::ClientSession& s = *c.session;
  if (s.wants_tls() && !c.tls) {
    start_tls(slot);
  }
  const bool may_start = !_opts.no_reuse || c.on_conn == 0;
  for (;;) {
    if (s.has_result()) {
      finish_message(slot);
    }
    if (s.ready() && !c.in_txn && may_start && start_message(slot) && s.has_result()) {
      continue;  // refused before sending (a local check): take it now
    }
    if (c.pending.empty() || s.has_result()) {
      break;
    }
    size_t used = s.consume(c.pending);
    c.pending.erase(0, used);
    if (used == 0 && !s.has_result()) {
      break;
    }
  }
  if (s.ready() && !c.in_txn) {
    if (_stopping || !more_work() || (_opts.no_reuse && c.on_conn > 0)) {
      s.quit();
    } else if (_interval_ns > 0 && !c.idle_listed) {
      c.idle_listed = true;  // open loop: it takes the next message when due
      _idle.push_back(slot);
    }
  }
  flush(slot);
  if (s.closed() && c.sending.empty() && !c.send_in_flight) {
    if ((s.failed() || !c.tls_error.empty()) && !c.error_counted) {
      connection_failed(slot);
    }
    shut(slot);
  }
}

void Client::connection_failed(uint32_t slot) {
  Conn& c = _conns[slot];
  const proto::Reply& why = c.session->failure();  // code 0 after a TLS failure the session took for a close
  c.error_counted = true;
  c.backoff = c.on_conn == 0;  // refused at the greeting or EHLO
  ++_stats.connection_errors;
  if (_stopping) {
    return;  // the others of the same batch of completions: stop() has the reason
  }
  _last_error = c.tls_error.empty() ? proto::format_reply(why) : c.tls_error;
  // 4.7.4 is the session's own "TLS is required, but the server does not
  // offer STARTTLS" (or refused it). Until one handshake has worked, a TLS
  // failure is the set-up's fault, not the load's: retrying cannot help.
  const bool tls_refused = why.local && why.enhanced == "4.7.4";
  if (_tls && _stats.tls_handshakes == 0 && (tls_refused || !c.tls_error.empty())) {
    // A TLS error names the server already; the session's 4.7.4 does not.
    stop(c.tls_error.empty() ? absl::StrCat("--tls with ", _server.text) : std::string("--tls"));
  }
}

void Client::finish_message(uint32_t slot) {
  Conn& c = _conns[slot];
  proto::TransactionResult r = c.session->take_result();
  c.in_txn = false;
  const int64_t now = mono_ns();
  ++_stats.completed;
  _last_result_ns = now;
  // The message's outcome: the end-of-data reply, or else the first refusal
  // (MAIL or every RCPT refused, 421).
  const proto::Reply* reply = r.data_reply.code != 0 ? &r.data_reply : nullptr;
  for (size_t i = 0; reply == nullptr && i < r.recipients.size(); ++i) {
    if (r.recipients[i].reply.code != 0) {
      reply = &r.recipients[i].reply;
    }
  }
  if (reply == nullptr || reply->local) {
    ++_stats.no_reply;
    if (reply != nullptr) {
      _last_error = proto::format_reply(*reply);
    }
    return;
  }
  ++_stats.codes[static_cast<size_t>(std::clamp(reply->code, 0, 599))];
  if (reply->code >= 200 && reply->code < 300) {
    ++_stats.ok;
  }
  if (_interval_ns > 0 || c.stamped) {
    _stats.latency.record_us(static_cast<uint64_t>(std::max<int64_t>(0, now - c.start_ns)) / 1000);
  }
}

void Client::dispatch_due() {
  while (!_idle.empty()) {
    const uint32_t slot = _idle.back();
    Conn& c = _conns[slot];
    const bool usable = c.fd >= 0 && !c.shut && c.session && c.session->ready() && !c.in_txn;
    if (usable && more_work() && !start_message(slot)) {
      break;  // the next message is not due yet
    }
    _idle.pop_back();
    c.idle_listed = false;
    if (usable) {
      drive(slot);  // sends the message, or QUITs when none is left
    }
  }
}

void Client::stop(std::string_view why) {
  if (_stopping) {
    return;  // the first reason is the one to tell
  }
  _stopping = true;
  if (_last_error.empty() || _stats.interrupted || _stats.timed_out) {
    _last_error = std::string(why);
  } else {
    _last_error = absl::StrCat(av(why), ": ", _last_error);
  }
}

int Client::finish() {
  _progress.finish();
  const int64_t end = _last_result_ns != 0 ? _last_result_ns : mono_ns();
  _stats.seconds = static_cast<double>(end - _start_ns) / 1e9;
  _stats.cpu_seconds = process_cpu_seconds();
  const uint64_t unanswered = _stats.dispatched - _stats.completed;
  _stats.no_reply += unanswered;
  ClientStats& s = _stats;
  if (_stopping) {
    s.why = absl::StrCat(_last_error, " after ", (mono_ns() - _start_ns) / 1'000'000, " ms; ",
                         unanswered, " messages unanswered");
  } else if (s.completed == 0) {
    s.why = absl::StrCat("no message was sent", _last_error.empty() ? "" : ": ", _last_error);
  } else if (s.ok < s.completed || s.no_reply > 0) {
    s.why = absl::StrCat(s.completed - s.ok, " of ", s.completed, " messages got no 2xx reply",
                         _last_error.empty() ? "" : " (last error: ", _last_error,
                         _last_error.empty() ? "" : ")");
  } else if (s.target > 0 && s.completed < s.target) {
    s.why = absl::StrCat("only ", s.completed, " of ", s.target, " messages were sent");
  }
  print_client_summary(stdout, s);
  std::fflush(stdout);
  if (!_opts.json_path.empty()) {
    absl::Status st = write_client_json(_opts.json_path, s);
    if (!st.ok()) {
      std::fprintf(stderr, "smtpblast: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  return s.why.empty() ? 0 : 1;
}

}  // namespace ringmta::blast
