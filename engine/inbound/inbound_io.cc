// engine/inbound/inbound_io.cc — a connection's I/O and its session:
// multishot recv into the provided-buffer ring, TLS, feeding the session,
// handing a finished message to the store, one send in flight, and closing
// only once the kernel holds no operation for the socket.
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/inbound/inbound.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

// A client that keeps sending while its session waits for a spool sync is
// buffered up to this much; beyond it, recv pauses until the session
// catches up (backpressure instead of unbounded memory).
constexpr size_t kMaxPendingInput = 256 * 1024;

}  // namespace

Connection* Inbound::live(uint32_t slot, uint32_t gen) {
  if (slot >= _conns.size()) {
    return nullptr;
  }
  Connection& c = _conns[slot];
  return (c.io.fd >= 0 && c.gen == gen) ? &c : nullptr;
}

void Inbound::arm_recv(uint32_t slot) {
  Connection& c = _conns[slot];
  c.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kRecv, slot, c.gen));
}

void Inbound::on_recv(uint32_t slot, io_uring_cqe* cqe) {
  Connection& c = _conns[slot];
  bool more = cqe->flags & IORING_CQE_F_MORE;
  if (!more) {
    c.io.recv_armed = false;
  }
  if (cqe->res > 0) {
    auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    c.last_activity_ms = monotonic_ms();
    if (!c.shut) {
      feed(slot, std::string_view(_ctx.buffers.data(id), static_cast<size_t>(cqe->res)));
    }
    _ctx.buffers.recycle(id);
    if (!more && !c.shut && !c.recv_paused) {
      arm_recv(slot);
    }
  } else if (cqe->res == -ENOBUFS) {
    // Every buffer was in use; they come back at the end of this loop
    // iteration, so re-arming now is safe.
    if (!c.shut && !c.recv_paused) {
      arm_recv(slot);
    }
  } else if (cqe->res == -ECANCELED && c.recv_paused) {
    // Paused for backpressure; run_session re-arms when the backlog drains.
  } else {
    // 0: the peer closed; <0: a socket error. Either way the session is over.
    shut(slot);
  }
  maybe_release(slot);
}

// tls_input decrypts what arrived; false when the TLS session failed (the
// connection is then shut).
bool Inbound::tls_input(uint32_t slot, std::string_view data, std::string* plain) {
  Connection& c = _conns[slot];
  absl::Status st = c.tls->receive(data, plain);
  if (!st.ok()) {
    log_debug("shard %u: TLS from %s failed: %s", _ctx.id,
              peer_text(reinterpret_cast<const sockaddr*>(&c.peer)), st.message());
    shut(slot);
    return false;
  }
  if (c.tls->handshake_just_done()) {
    c.session->on_tls_established(c.tls->version(), c.tls->cipher());
  }
  return true;
}

void Inbound::feed(uint32_t slot, std::string_view data) {
  Connection& c = _conns[slot];
  if (c.tls) {
    // Decrypted into one buffer the shard reuses: no allocation per read.
    _plain.clear();
    if (!tls_input(slot, data, &_plain)) {
      return;
    }
    data = _plain;
  }
  if (!c.pending_input.empty() || c.session->waiting() || c.session->closing()) {
    if (!c.session->closing()) {
      c.pending_input.append(data);
    }
  } else {
    size_t used = c.session->consume(data);
    if (used < data.size()) {
      c.pending_input.append(data.substr(used));
    }
  }
  run_session(slot);
}

// run_session moves the session forward after new input or a store result:
// spool a finished message, feed buffered input, send replies, and pause or
// resume receiving.
void Inbound::run_session(uint32_t slot) {
  Connection& c = _conns[slot];
  proto::ServerSession& s = *c.session;
  for (;;) {
    if (s.message_ready()) {
      // Signed (when a key applies), then spooled: the store keeps the
      // message until its batch settles, and answers through on_stored.
      _signing.submit(std::make_unique<proto::CompletedMessage>(s.take_message()), slot, c.gen);
    }
    if (s.wants_tls() && !c.tls) {
      // STARTTLS: the 220 goes out in plaintext, then everything is TLS.
      // What the client sent after STARTTLS in plaintext is dropped, never
      // executed (CVE-2011-0411).
      c.plain_out.append(s.output());
      s.output().clear();
      c.pending_input.clear();
      c.tls = std::make_unique<TlsSession>(*_tls_server, "");
      break;
    }
    if (s.waiting() || s.closing() || c.pending_input.empty()) {
      break;
    }
    size_t used = s.consume(c.pending_input);
    c.pending_input.erase(0, used);
    if (used == 0 && !s.message_ready()) {
      break;
    }
  }
  if (s.auth_pending()) {
    start_auth(slot);
  }
  observe_progress(c);
  if (_ctx.stopping && !s.closing() && !s.in_message() && !s.waiting()) {
    s.on_shutdown();
  }
  if (s.closing()) {
    c.pending_input.clear();
  }
  if (!c.recv_paused && c.io.recv_armed && c.pending_input.size() > kMaxPendingInput) {
    c.recv_paused = true;
    io_uring_sqe* sqe = _ctx.ring.sqe();
    io_uring_prep_cancel64(sqe, encode(Op::kRecv, slot, c.gen), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  } else if (c.recv_paused && !c.io.recv_armed && c.pending_input.size() <= kMaxPendingInput / 2 &&
             !s.closing() && !c.shut) {
    c.recv_paused = false;
    arm_recv(slot);
  }
  flush(slot);
}

// observe_progress restarts the timers that check_timers (shard.cc) reads
// when the session made progress: a completed command, a message begun or
// ended.
void Inbound::observe_progress(Connection& c) {
  const proto::ServerSession& s = *c.session;
  const bool in_message = s.in_message();
  const bool was_in_message = c.message_start_ms != 0;
  if (s.commands() == c.commands_seen && in_message == was_in_message) {
    return;
  }
  const int64_t now = monotonic_ms();
  c.commands_seen = s.commands();
  c.last_command_ms = now;
  c.message_start_ms = in_message ? (was_in_message ? c.message_start_ms : now) : 0;
}

void Inbound::flush(uint32_t slot) {
  Connection& c = _conns[slot];
  if (c.io.send_in_flight || c.shut) {
    return;
  }
  std::string& out = c.session->output();
  if (!c.plain_out.empty()) {
    c.io.sending.swap(c.plain_out);  // the 220 to STARTTLS
    c.plain_out.clear();
  } else if (c.tls) {
    if (!c.tls->handshake_done() && c.session->closing()) {
      shut(slot);  // a timeout or shutdown before the handshake: nothing to say in TLS
      return;
    }
    encrypt_output(*c.tls, &out, &c.plain_pos);
    if (c.tls->ciphertext_out().empty()) {
      if (out.empty() && c.session->closing()) {
        shut(slot);
      }
      return;
    }
    c.io.sending.swap(c.tls->ciphertext_out());
    c.tls->ciphertext_out().clear();
  } else {
    if (out.empty()) {
      if (c.session->closing()) {
        shut(slot);
      }
      return;
    }
    c.io.sending.swap(out);
    out.clear();
  }
  c.io.start_send(_ctx.ring, encode(Op::kSend, slot, c.gen));
}

void Inbound::on_send(uint32_t slot, io_uring_cqe* cqe) {
  Connection& c = _conns[slot];
  switch (c.io.on_send(_ctx.ring, c.shut ? -ECANCELED : cqe->res, encode(Op::kSend, slot, c.gen))) {
    case SocketIo::SendState::kMore:
      return;
    case SocketIo::SendState::kError:
      shut(slot);
      break;
    case SocketIo::SendState::kDone:
      flush(slot);
      break;
  }
  maybe_release(slot);
}

// shut ends the conversation: shutdown(2) makes the outstanding multishot
// recv complete, after which maybe_release closes the socket.
void Inbound::shut(uint32_t slot) {
  Connection& c = _conns[slot];
  if (c.shut) {
    return;
  }
  c.shut = true;
  c.pending_input.clear();
  c.io.shut(_ctx.ring, encode(Op::kRecv, slot, c.gen));
  maybe_release(slot);
}

void Inbound::maybe_release(uint32_t slot) {
  Connection& c = _conns[slot];
  if (c.io.fd < 0 || !c.shut || !c.io.idle()) {
    return;
  }
  c.io.release();
  if (c.holds_ip_slot) {
    _services.limits->release(reinterpret_cast<const sockaddr*>(&c.peer));
    c.holds_ip_slot = false;
  }
  c.session.reset();
  c.tls.reset();
  c.plain_pos = 0;
  c.plain_out = std::string();
  c.pending_input = std::string();
  _conns.release(slot);
}

}  // namespace ringmta
