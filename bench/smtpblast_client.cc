// bench/smtpblast_client.cc — see smtpblast_client.h. The I/O follows
// engine/shard_outbound.cc: connect, a multishot recv into a provided-buffer
// ring, one send in flight per connection, close once the kernel holds
// nothing for the socket.
#include "bench/smtpblast_client.h"

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/smtpblast_clock.h"
#include "bench/smtpblast_signal.h"
#include "engine/absl_compat.h"
#include "engine/user_data.h"

namespace ringmta::blast {
namespace {

constexpr int64_t kTickNs = 250'000'000;       // the longest the loop sleeps
constexpr int64_t kRetryNs = 100'000'000;      // reconnect after a failure
constexpr int64_t kQuitGraceNs = 1'000'000'000;  // wait for 221s, then leave

// ends_data: `out` finishes a message's content (BDAT) or its DATA dot.
bool ends_data(const std::string& out) {
  std::string_view v = out;
  constexpr std::string_view kDot = ".\r\n";
  if (v.ends_with(kDot)) {
    v.remove_suffix(kDot.size());
  }
  return v.ends_with(kBodyTail);
}

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
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
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

void Client::connect(uint32_t slot) {
  Conn& c = _conns[slot];
  c.fd = socket(_server.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    _last_error = absl::StrCat("socket: ", strerror(errno));
    ++_stats.connection_errors;
    c.retry_at_ns = mono_ns() + kRetryNs;
    return;
  }
  // Commands and replies are small and a pipelined batch is one write:
  // Nagle would only add delay.
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++_open;
  c.connecting = true;
  c.shut = false;
  c.error_counted = false;
  c.backoff = false;
  c.on_conn = 0;
  c.in_txn = false;
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_connect(sqe, c.fd, reinterpret_cast<const sockaddr*>(&_server.addr), _server.len);
  io_uring_sqe_set_data64(sqe, encode(Op::kOutConnect, slot, c.gen));
}

void Client::arm_recv(uint32_t slot) {
  Conn& c = _conns[slot];
  io_uring_sqe* sqe = _ring->sqe();
  // Multishot recv with buffer selection: one SQE serves every reply.
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = _buffers->group();
  io_uring_sqe_set_data64(sqe, encode(Op::kOutRecv, slot, c.gen));
  c.recv_armed = true;
}

void Client::on_cqe(io_uring_cqe* cqe) {
  const UserData ud = decode(cqe->user_data);
  if (ud.op == Op::kCancel || ud.slot >= _conns.size() || _conns[ud.slot].gen != ud.gen ||
      _conns[ud.slot].fd < 0) {
    if (cqe->flags & IORING_CQE_F_BUFFER) {
      _buffers->recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
    }
    return;
  }
  const uint32_t slot = ud.slot;
  Conn& c = _conns[slot];
  switch (ud.op) {
    case Op::kOutConnect:
      c.connecting = false;
      if (cqe->res < 0) {
        _last_error = absl::StrCat("connect to ", _server.text, ": ", strerror(-cqe->res));
        ++_stats.connection_errors;
        c.error_counted = true;
        c.backoff = true;
        release(slot);
        if (!_ever_connected && _stats.connection_errors >= 3 * _conns.size()) {
          stop("cannot connect");
        }
        return;
      }
      if (!_ever_connected) {
        _ever_connected = true;
        _start_ns = mono_ns();  // measure from the first connect, not from set-up
        _send_until_ns = _start_ns + static_cast<int64_t>(_opts.duration_s * 1e9);
      }
      ++_stats.connections;
      c.session = std::make_unique<proto::ClientSession>(_client_config);
      arm_recv(slot);
      return;
    case Op::kOutRecv: {
      const bool more = cqe->flags & IORING_CQE_F_MORE;
      if (!more) {
        c.recv_armed = false;
      }
      if (cqe->res > 0) {
        auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (!c.shut) {
          std::string_view data(_buffers->data(id), static_cast<size_t>(cqe->res));
          if (c.pending.empty()) {
            data.remove_prefix(c.session->consume(data));
          }
          c.pending.append(data);  // bounded: only replies to what we sent
        }
        _buffers->recycle(id);
        if (!more && !c.shut) {
          arm_recv(slot);
        }
      } else if (cqe->res == -ENOBUFS) {
        if (!c.shut) {
          arm_recv(slot);  // buffers come back at the end of this iteration
        }
      } else if (!c.shut) {
        c.session->on_connection_lost();
      }
      drive(slot);
      return;
    }
    case Op::kOutSend:
      c.send_in_flight = false;
      if (cqe->res < 0) {
        if (!c.shut) {
          c.session->on_connection_lost();
        }
      } else {
        c.sent += static_cast<size_t>(cqe->res);
        if (c.sent < c.sending.size() && !c.shut) {
          io_uring_sqe* sqe = _ring->sqe();
          io_uring_prep_send(sqe, c.fd, c.sending.data() + c.sent, c.sending.size() - c.sent, MSG_NOSIGNAL);
          io_uring_sqe_set_data64(sqe, encode(Op::kOutSend, slot, c.gen));
          c.send_in_flight = true;
          return;
        }
        c.sending.clear();
      }
      drive(slot);
      return;
    default:
      return;
  }
}

bool Client::start_message(uint32_t slot) {
  Conn& c = _conns[slot];
  int64_t start = 0;
  if (!take_work(&start)) {
    return false;
  }
  patch_message_id(&c.headers, _template.id_offset, ++_next_id);
  c.in_txn = true;
  c.stamped = false;
  c.start_ns = start;
  ++c.on_conn;
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
    if (s.failed() && !c.error_counted) {
      c.error_counted = true;
      c.backoff = c.on_conn == 0;  // refused at the greeting or EHLO
      ++_stats.connection_errors;
      _last_error = proto::format_reply(s.failure());
    }
    shut(slot);
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

void Client::flush(uint32_t slot) {
  Conn& c = _conns[slot];
  std::string& out = c.session->output();
  if (c.send_in_flight || out.empty() || c.shut) {
    return;
  }
  // Closed loop: latency runs from the moment the data is handed over.
  if (c.in_txn && !c.stamped && _interval_ns == 0 && ends_data(out)) {
    c.stamped = true;
    c.start_ns = mono_ns();
  }
  c.sending.swap(out);
  out.clear();
  c.sent = 0;
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, encode(Op::kOutSend, slot, c.gen));
  c.send_in_flight = true;
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

void Client::shut(uint32_t slot) {
  Conn& c = _conns[slot];
  if (!c.shut) {
    c.shut = true;
    ::shutdown(c.fd, SHUT_RDWR);
    if (c.recv_armed) {
      io_uring_sqe* sqe = _ring->sqe();
      io_uring_prep_cancel64(sqe, encode(Op::kOutRecv, slot, c.gen), 0);
      io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
    }
  }
  release(slot);
}

// release closes the socket once no operation of the kernel refers to it,
// and reconnects while messages remain.
void Client::release(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.fd < 0 || c.send_in_flight || c.recv_armed || c.connecting) {
    return;
  }
  close(c.fd);
  c.fd = -1;
  ++c.gen;  // completions still queued for the old socket are dropped
  --_open;
  c.session.reset();
  c.sending.clear();
  c.pending.clear();
  if (!_stopping && more_work()) {
    if (c.backoff) {
      c.retry_at_ns = mono_ns() + kRetryNs;  // no hot loop against a dead server
    } else {
      connect(slot);
    }
  }
}

void Client::stop(const char* why) {
  _stopping = true;
  if (_last_error.empty() || _stats.interrupted || _stats.timed_out) {
    _last_error = why;
  } else {
    _last_error = absl::StrCat(why, ": ", _last_error);
  }
}

int Client::finish() {
  _progress.finish();
  const int64_t end = _last_result_ns != 0 ? _last_result_ns : mono_ns();
  _stats.seconds = static_cast<double>(end - _start_ns) / 1e9;
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
