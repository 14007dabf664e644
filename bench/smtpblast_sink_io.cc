// bench/smtpblast_sink_io.cc — the sink's socket plumbing, as in
// engine/inbound/inbound_accept.cc and inbound_io.cc: multishot accept, multishot recv into the
// provided-buffer ring, one send in flight per connection, timeouts for
// held replies, and closing only once the kernel holds no operation for the
// socket.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/smtpblast_clock.h"
#include "bench/smtpblast_sink.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/user_data.h"

namespace ringmta::blast {
namespace {

// Input is only buffered while a reply is held (--delay) or a command line
// is split; a client that floods past this is cut off (distrust input).
constexpr size_t kMaxPending = 8u << 20;

}  // namespace

void Sink::arm_accept() {
  io_uring_sqe* sqe = _ring->sqe();
  // Multishot accept: one SQE accepts every connection until it is ended.
  io_uring_prep_multishot_accept(sqe, _listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, encode(Op::kAccept));
}

void Sink::on_cqe(io_uring_cqe* cqe) {
  const UserData ud = decode(cqe->user_data);
  if (ud.op == Op::kAccept) {
    if (cqe->res >= 0) {
      on_accept(cqe->res);
    } else if (cqe->res != -EAGAIN && cqe->res != -EINTR) {
      std::fprintf(stderr, "smtpblast: accept: %s\n", strerror(-cqe->res));
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      arm_accept();
    }
    return;
  }
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
    case Op::kRecv: {
      const bool more = cqe->flags & IORING_CQE_F_MORE;
      if (!more) {
        c.recv_armed = false;
      }
      if (cqe->res > 0) {
        auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        std::string_view data(_buffers->data(id), static_cast<size_t>(cqe->res));
        if (!c.shut && !c.session->closing() && (!c.tls || tls_input(slot, &data))) {
          if (c.pending.empty() && c.hold == Hold::kNone) {
            data.remove_prefix(feed(slot, data));  // the fast path: no copy
          }
          if (!c.session->closing()) {
            c.pending.append(data);
          }
        }
        _buffers->recycle(id);
        if (c.pending.size() > kMaxPending) {
          shut(slot);
        } else if (!more && !c.shut) {
          arm_recv(slot);
        }
      } else if (cqe->res == -ENOBUFS) {
        if (!c.shut) {
          arm_recv(slot);  // buffers come back at the end of this iteration
        }
      } else {
        shut(slot);  // 0: the client closed; < 0: a socket error
      }
      if (!c.shut) {
        run_session(slot);
      }
      release(slot);
      return;
    }
    case Op::kSend:
      c.send_in_flight = false;
      if (cqe->res < 0) {
        shut(slot);
        return;
      }
      c.sent += static_cast<size_t>(cqe->res);
      if (c.sent < c.sending.size() && !c.shut) {
        io_uring_sqe* sqe = _ring->sqe();
        io_uring_prep_send(sqe, c.fd, c.sending.data() + c.sent, c.sending.size() - c.sent, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, encode(Op::kSend, slot, c.gen));
        c.send_in_flight = true;
        return;
      }
      c.sending.clear();
      flush(slot);
      release(slot);
      return;
    case Op::kTick:
      c.timer_armed = false;
      on_timer(slot);
      release(slot);
      return;
    default:
      return;
  }
}

void Sink::on_accept(int fd) {
  uint32_t slot;
  if (!_free.empty()) {
    slot = _free.back();
    _free.pop_back();
  } else {
    slot = static_cast<uint32_t>(_conns.size());
    _conns.emplace_back();
  }
  Conn& c = _conns[slot];
  c.fd = fd;
  c.shut = false;
  c.hold = Hold::kNone;
  c.line_released = false;
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
  // Every peer may send to any domain: a sink takes whatever it is given.
  c.session = std::make_unique<proto::ServerSession>(
      _session_config, proto::ClientInfo{peer_text(reinterpret_cast<sockaddr*>(&peer)), true});
  ++_open;
  if (_stats.connections++ == 0) {
    _first_ns = mono_ns();
    _stats.first_connection_unix = unix_s();
  }
  c.session->start();
  arm_recv(slot);
  if (_connect_delay > 0) {
    hold(slot, Hold::kGreeting, _connect_delay);
  } else {
    flush(slot);
  }
}

void Sink::arm_recv(uint32_t slot) {
  Conn& c = _conns[slot];
  io_uring_sqe* sqe = _ring->sqe();
  // Multishot recv with buffer selection: idle connections pin no memory.
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = _buffers->group();
  io_uring_sqe_set_data64(sqe, encode(Op::kRecv, slot, c.gen));
  c.recv_armed = true;
}

void Sink::hold(uint32_t slot, Hold what, uint32_t ms) {
  Conn& c = _conns[slot];
  c.hold = what;
  c.ts.tv_sec = ms / 1000;
  c.ts.tv_nsec = static_cast<long long>(ms % 1000) * 1'000'000;
  io_uring_sqe* sqe = _ring->sqe();
  // A timeout SQE per held reply: the ring wakes us when it is due, and
  // every other connection goes on meanwhile.
  io_uring_prep_timeout(sqe, &c.ts, 0, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kTick, slot, c.gen));
  c.timer_armed = true;
}

void Sink::flush(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.send_in_flight || c.shut || c.hold == Hold::kGreeting) {
    return;
  }
  std::string& out = c.session->output();
  if (!c.plain_out.empty()) {
    c.sending.swap(c.plain_out);  // the 220 to STARTTLS
    c.plain_out.clear();
  } else if (c.tls) {
    if (!c.tls->handshake_done() && c.session->closing()) {
      shut(slot);  // nothing can be said in TLS before the handshake
      return;
    }
    encrypt_output(*c.tls, &out, &c.plain_pos);
    if (c.tls->ciphertext_out().empty()) {
      if (out.empty() && c.session->closing()) {
        shut(slot);
      }
      return;
    }
    c.sending.swap(c.tls->ciphertext_out());
    c.tls->ciphertext_out().clear();
  } else {
    if (out.empty()) {
      if (c.session->closing()) {
        shut(slot);
      }
      return;
    }
    c.sending.swap(out);
    out.clear();
  }
  c.sent = 0;
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, encode(Op::kSend, slot, c.gen));
  c.send_in_flight = true;
}

void Sink::shut(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.shut) {
    return;
  }
  c.shut = true;
  c.pending.clear();
  ::shutdown(c.fd, SHUT_RDWR);
  if (c.recv_armed) {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_cancel64(sqe, encode(Op::kRecv, slot, c.gen), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
  if (c.timer_armed) {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_timeout_remove(sqe, encode(Op::kTick, slot, c.gen), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
  release(slot);
}

// release closes the socket once no operation of the kernel refers to it.
void Sink::release(uint32_t slot) {
  Conn& c = _conns[slot];
  if (c.fd < 0 || !c.shut || c.send_in_flight || c.recv_armed || c.timer_armed) {
    return;
  }
  close(c.fd);
  c.fd = -1;
  ++c.gen;
  c.session.reset();
  c.tls.reset();
  c.plain_pos = 0;
  c.plain_out.clear();
  c.sending.clear();  // keeps its capacity for the slot's next connection
  c.pending.clear();
  --_open;
  _free.push_back(slot);
}

}  // namespace ringmta::blast
