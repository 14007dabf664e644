// engine/outbound/outbound_connection.cc — one outbound SMTP connection's
// life: connect with a linked timeout (bound to the queue's egress source),
// multishot recv into the shard's buffer ring, one send in flight, and on
// failure the next mail exchanger; what runs over it is in
// outbound_transaction.cc (outbound.h).
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/outbound/outbound.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"

namespace ringmta {

void Outbound::open_conn(SiteQueue& q) {
  const uint32_t slot = _conns.acquire();
  OutboundConn& c = _conns[slot];
  ++c.gen;
  c.site_key = q.key;
  c.route = q.route;
  c.target = 0;
  c.messages = 0;
  c.shut = false;
  c.chunk.reset();
  q.conns.push_back(slot);
  connect_next(slot);
}

// connect_next tries the connection's current target, or gives up when
// every target has failed.
void Outbound::connect_next(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  SiteQueue& q = *_sites.at(c.site_key);
  if (c.target >= c.route->targets.size()) {
    release(slot);
    return;
  }
  const Target& t = c.route->targets[c.target];
  c.host = t.host;
  c.ip = peer_text(reinterpret_cast<const sockaddr*>(&t.addr));
  // An LMTP socket is local: no source address to send from.
  const bool local = t.addr.ss_family == AF_UNIX;
  if (!local && q.egress != nullptr && q.egress->addr.ss_family != t.addr.ss_family) {
    q.last_error = absl::StrCat("source '", q.source, "' (", q.egress->address, ") cannot reach ", c.host, "[", c.ip,
                                "]: another address family");
    ++c.target;
    connect_next(slot);
    return;
  }
  c.io.fd = socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.io.fd < 0) {
    q.last_error = absl::StrCat("socket: ", strerror(errno));
    ++c.target;
    connect_next(slot);
    return;
  }
  if (!local && q.egress != nullptr) {
    // Send from the source's address. The port is left to connect(), so
    // that one local port can serve many destinations (no bind-time
    // port exhaustion).
    int one = 1;
    setsockopt(c.io.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(c.io.fd, reinterpret_cast<const sockaddr*>(&q.egress->addr), q.egress->len) != 0) {
      q.last_error = absl::StrCat("bind to source '", q.source, "' (", q.egress->address, "): ", strerror(errno));
      close(c.io.fd);
      c.io.fd = -1;
      ++c.target;
      connect_next(slot);
      return;
    }
  }
  int one = 1;
  if (!local) {
    setsockopt(c.io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  auto [sqe, timeout_sqe] = _ctx.ring.sqe_pair();
  io_uring_prep_connect(sqe, c.io.fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(sqe, encode(Op::kOutConnect, slot, c.gen));
  // A linked timeout bounds the connect precisely; it cancels the connect,
  // which then completes with -ECANCELED.
  _connect_timeout.tv_sec = static_cast<int64_t>(_ctx.config.connect_timeout_s);
  _connect_timeout.tv_nsec = 0;
  io_uring_prep_link_timeout(timeout_sqe, &_connect_timeout, 0);
  io_uring_sqe_set_data64(timeout_sqe, encode(Op::kCancel));
  c.connecting = true;
  ++_connects;
}

void Outbound::on_connect(uint32_t slot, int res) {
  OutboundConn& c = _conns[slot];
  SiteQueue& q = *_sites.at(c.site_key);
  c.connecting = false;
  if (res < 0) {
    q.last_error =
        absl::StrCat("connect to ", c.host, "[", c.ip, "]: ", res == -ECANCELED ? "timed out" : strerror(-res));
    on_reply(q, proto::make_local_reply(451, "4.4.1", q.last_error), nullptr);
    close(c.io.fd);
    c.io.fd = -1;
    ++c.target;
    if (_ctx.stopping || suspended(q)) {
      release(slot);
    } else {
      connect_next(slot);
    }
    return;
  }
  proto::ClientConfig cfg = _client_config;
  if (q.egress != nullptr && !q.egress->ehlo.empty()) {
    cfg.helo_name = q.egress->ehlo;
  }
  cfg.tls = q.tls_broken ? proto::TlsPolicy::kOff : q.tls;
  cfg.lmtp = c.route->lmtp;
  if (cfg.tls == proto::TlsPolicy::kOpportunistic && tls_client() == nullptr) {
    cfg.tls = proto::TlsPolicy::kOff;
  }
  c.session = std::make_unique<proto::ClientSession>(cfg);
  c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_ctx.config.smtp_timeout_s) * 1000;
  arm_recv(slot);
}

void Outbound::on_recv(uint32_t slot, io_uring_cqe* cqe) {
  OutboundConn& c = _conns[slot];
  const bool more = cqe->flags & IORING_CQE_F_MORE;
  if (!more) {
    c.io.recv_armed = false;
  }
  if (cqe->res > 0) {
    auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    if (!c.shut) {
      on_data(slot, std::string_view(_ctx.buffers.data(id), static_cast<size_t>(cqe->res)));
      c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_ctx.config.smtp_timeout_s) * 1000 *
                                           (c.session->phase() == "dot" ? 2 : 1);
    }
    _ctx.buffers.recycle(id);
    if (!more && !c.shut) {
      arm_recv(slot);
    }
  } else if (cqe->res == -ENOBUFS) {
    if (!c.shut) {
      arm_recv(slot);
    }
  } else if (!c.shut) {
    c.session->on_connection_lost();
  }
  drive(slot);
}

void Outbound::on_send(uint32_t slot, int res) {
  OutboundConn& c = _conns[slot];
  switch (c.io.on_send(_ctx.ring, c.shut ? -ECANCELED : res, encode(Op::kOutSend, slot, c.gen))) {
    case SocketIo::SendState::kMore:
      return;
    case SocketIo::SendState::kError:
      if (!c.shut) {
        c.session->on_connection_lost();
      }
      break;
    case SocketIo::SendState::kDone:
      break;
  }
  drive(slot);
}

void Outbound::arm_recv(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  c.io.arm_recv(_ctx.ring, _ctx.buffers.group(), encode(Op::kOutRecv, slot, c.gen));
}

// on_data takes bytes from the server: through TLS when it is on. The
// session's input waits in `pending` whenever it cannot take it yet.
void Outbound::on_data(uint32_t slot, std::string_view data) {
  OutboundConn& c = _conns[slot];
  if (c.tls) {
    std::string plain;
    absl::Status st = c.tls->receive(data, &plain);
    if (!st.ok()) {
      SiteQueue& q = *_sites.at(c.site_key);
      q.last_error = absl::StrCat("TLS with ", c.host, "[", c.ip, "] failed: ", st.message());
      if (q.tls != proto::TlsPolicy::kRequired) {
        q.tls_broken = true;  // the next connection goes in plaintext
      }
      c.tls_failed = true;
      c.session->on_connection_lost();
      return;
    }
    if (c.tls->handshake_just_done()) {
      log_debug("shard %u: TLS with %s[%s]: %s %s", _ctx.id, c.host, c.ip, c.tls->version(), c.tls->cipher());
      c.session->on_tls_established();
    }
    c.pending.append(plain);
    return;
  }
  if (c.pending.empty()) {
    size_t used = c.session->consume(data);
    c.pending.append(data.substr(used));
  } else {
    c.pending.append(data);  // bounded: the server can only answer what we sent
  }
}

// drive moves an outbound connection on after input, a send, or a
// timeout: hand back a finished transaction, start the next job, quit when
// done, send what the session wrote, close when it is over.
void Outbound::flush(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  if (c.io.send_in_flight || c.shut) {
    return;
  }
  std::string& out = c.session->output();
  if (c.tls) {
    encrypt_output(*c.tls, &out, &c.plain_pos);
    if (c.tls->ciphertext_out().empty()) {
      return;
    }
    c.io.sending.swap(c.tls->ciphertext_out());
    c.tls->ciphertext_out().clear();
  } else {
    if (out.empty()) {
      return;
    }
    c.io.sending.swap(out);
    out.clear();
  }
  c.io.start_send(_ctx.ring, encode(Op::kOutSend, slot, c.gen));
}

void Outbound::shut(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  if (!c.shut) {
    c.shut = true;
    if (c.chunk) {
      c.session->on_connection_lost();
      finish_job(slot, c.session->take_result());
    }
    c.io.shut(_ctx.ring, encode(Op::kOutRecv, slot, c.gen));
  }
  release(slot);
}

// try_next_target: a connection that never got a usable session (connect
// failed, refused at the greeting or EHLO, dropped) moves on to the next
// mail exchanger (RFC 5321 5.1). True when it reconnects; false after the
// last one.
bool Outbound::try_next_target(uint32_t slot, SiteQueue& q) {
  OutboundConn& c = _conns[slot];
  if (c.session) {
    if (!c.tls_failed && (q.last_error.empty() || c.session->failed())) {
      q.last_error = absl::StrCat(c.host, "[", c.ip, "] ",
                                  c.session->failed() ? "refused the session: " : "closed the session early",
                                  c.session->failed() ? proto::format_reply(c.session->failure()) : "");
    }
    if (c.session->failed()) {
      on_reply(q, c.session->failure(), nullptr);  // the greeting or EHLO refused: a rule may back off
    }
    // After an opportunistic TLS failure the same host is tried again in
    // plaintext (tls_broken); anything else moves to the next host.
    if (!(c.tls_failed && q.tls_broken)) {
      ++c.target;
    }
    c.session.reset();
    c.tls.reset();
    c.tls_failed = false;
    c.plain_pos = 0;
    c.pending.clear();
    c.io.sending.clear();
  }
  if (c.target >= c.route->targets.size() || suspended(q)) {
    return false;
  }
  ++c.gen;
  c.shut = false;
  connect_next(slot);
  return true;
}

// release frees the slot once the kernel holds nothing for it; a refused
// session moves on to the next target instead.
void Outbound::release(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  if (!c.idle_ops()) {
    return;
  }
  c.io.release();
  auto it = _sites.find(c.site_key);
  bool gave_up = false;
  if (it != _sites.end()) {
    SiteQueue& q = *it->second;
    if (!c.was_ready && !_ctx.stopping) {
      if (try_next_target(slot, q)) {
        return;
      }
      gave_up = true;
    }
    std::erase(q.conns, slot);
    if (gave_up && q.conns.empty() && !suspended(q)) {
      // Nobody could be reached: defer what waits, rather than reconnect in a loop.
      fail_queue(q, Outcome::kDeferred, 451, "4.4.1",
                 q.last_error.empty() ? std::string("no mail exchanger answered") : q.last_error);
      it = _sites.find(c.site_key);
    }
  }
  c.session.reset();
  c.tls.reset();
  c.tls_failed = false;
  c.plain_pos = 0;
  c.pending = std::string();
  c.chunk.reset();
  c.route.reset();
  c.was_ready = false;
  _conns.release(slot);
  if (it != _sites.end()) {
    if (!it->second->queue.empty() && !_ctx.stopping && !gave_up) {
      pump(*it->second);
    } else {
      maybe_forget(c.site_key);
    }
  }
}

}  // namespace ringmta
