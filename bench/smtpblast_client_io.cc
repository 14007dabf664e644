// bench/smtpblast_client_io.cc — the client's socket plumbing, as in
// engine/outbound/outbound_connection.cc: connect, a multishot recv into the
// provided-buffer ring, one send in flight per connection, and closing only
// once the kernel holds no operation for the socket.
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/smtpblast_client.h"
#include "bench/smtpblast_clock.h"
#include "engine/runtime/user_data.h"

namespace ringmta::blast {
namespace {

constexpr int64_t kRetryNs = 100'000'000;  // reconnect after a refused connection

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
        std::string_view data(_buffers->data(id), static_cast<size_t>(cqe->res));
        if (!c.shut && (!c.tls || tls_input(slot, &data))) {
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
        if (c.tls && !c.tls->handshake_done() && c.tls_error.empty()) {
          // The session awaits nothing during the handshake, so it would
          // take this for a quiet close; it is the server refusing TLS.
          c.tls_error = absl::StrCat("TLS with ", _server.text, " failed: the server closed the connection "
                                     "during the handshake", cqe->res < 0 ? ": " : "",
                                     cqe->res < 0 ? strerror(-cqe->res) : "");
        }
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

void Client::flush(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.send_in_flight || c.shut) {
    return;
  }
  std::string& out = c.session->output();
  // Closed loop: latency runs from the moment the data is handed over.
  if (c.in_txn && !c.stamped && _interval_ns == 0 && ends_data(out)) {
    c.stamped = true;
    c.start_ns = mono_ns();
  }
  if (c.tls) {
    // Handshake records wait in the TLS output even when the session has
    // nothing to say; a huge message is encrypted 1 MiB per send.
    encrypt_output(*c.tls, &out, &c.plain_pos);
    if (c.tls->ciphertext_out().empty()) {
      return;
    }
    c.sending.swap(c.tls->ciphertext_out());
    c.tls->ciphertext_out().clear();
  } else {
    if (out.empty()) {
      return;
    }
    c.sending.swap(out);
    out.clear();
  }
  c.sent = 0;
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, encode(Op::kOutSend, slot, c.gen));
  c.send_in_flight = true;
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
  c.tls.reset();
  c.plain_pos = 0;
  c.tls_error.clear();
  c.sending.clear();
  c.pending.clear();
  // Enough fresh connections may already be on their way for what is left
  // (--no-reuse counts connections: opening one more would skew it).
  if (!_stopping && more_work() && (_total == 0 || _total - _stats.dispatched > unclaimed())) {
    if (c.backoff) {
      c.retry_at_ns = mono_ns() + kRetryNs;  // no hot loop against a dead server
    } else {
      connect(slot);
    }
  }
}

uint32_t Client::unclaimed() const {
  uint32_t n = 0;
  for (const Conn& c : _conns) {
    n += c.fd >= 0 && !c.shut && c.on_conn == 0 ? 1 : 0;
  }
  return n;
}

}  // namespace ringmta::blast
