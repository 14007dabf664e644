// engine/shard_outbound.cc — delivery, owner side: the destination queues
// this shard owns, their connection pools, and the outbound SMTP
// connections (connect, multishot recv, one send in flight, timeouts). Every
// job ends in exactly one DeliveryResult sent back to its origin shard.
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/shard.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

// An idle connection is kept this long for the next job (Postfix's
// smtp_connection_cache_time_limit is 2 s).
constexpr int64_t kIdleKeepMs = 2000;

Outcome outcome_for(int code) {
  if (code >= 200 && code < 300) {
    return Outcome::kDelivered;
  }
  return code >= 500 ? Outcome::kBounced : Outcome::kDeferred;
}

bool has_8bit(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      return true;
    }
  }
  return false;
}

}  // namespace

Destination& Shard::destination(const DeliveryJob& job) {
  auto [it, fresh] = _dests.try_emplace(job.dest_key);
  if (fresh) {
    it->second = std::make_unique<Destination>();
    it->second->key = job.dest_key;
    it->second->nexthop = job.nexthop;
  }
  return *it->second;
}

void Shard::enqueue_job(DeliveryJob&& job) {
  if (_stopping) {
    return;  // the origin's spool still has it; the next start retries
  }
  Destination& d = destination(job);
  d.queue.push_back(std::move(job));
  pump_dest(d);
}

void Shard::pump_dest(Destination& d) {
  if (!d.resolved) {
    if (!d.resolving) {
      resolve_dest(d);
    }
    return;
  }
  if (d.targets.empty()) {
    fail_queue(d, d.route_permanent ? Outcome::kBounced : Outcome::kDeferred, d.route_code,
               d.route_status, d.route_error);
    return;
  }
  size_t spare = 0;
  for (uint32_t slot : d.conns) {
    OutboundConn& c = _out[slot];
    if (c.shut || c.job) {
      continue;
    }
    if (!d.queue.empty() && c.session && c.session->ready()) {
      start_job(slot);
    } else {
      ++spare;  // connecting, greeting, or idle with nothing to do
    }
  }
  while (d.queue.size() > spare && d.conns.size() < _config.dest_connections) {
    open_conn(d);
    ++spare;
  }
}

void Shard::resolve_dest(Destination& d) {
  if (d.nexthop.use_mx) {
    d.resolving = true;
    resolver().resolve_mx(d.nexthop.name, [this, key = d.key](const MxRoute& route) {
      on_resolved(key, route);
    });
    return;
  }
  d.resolved = true;
  absl::StatusOr<Endpoint> ep = parse_endpoint(d.nexthop.name);
  if (!ep.ok()) {
    // A configuration problem, not the recipient's: defer, never bounce.
    d.route_code = 451;
    d.route_status = "4.3.5";
    d.route_error = absl::StrCat("bad route or relay host '", d.nexthop.name, "': ", ep.status().message());
  } else {
    Target t;
    t.host = d.nexthop.name;
    t.addr = ep->addr;
    t.len = ep->len;
    d.targets.push_back(t);
  }
  pump_dest(d);
}

void Shard::on_resolved(const std::string& key, const MxRoute& route) {
  auto it = _dests.find(key);
  if (it == _dests.end()) {
    return;
  }
  Destination& d = *it->second;
  d.resolving = false;
  d.resolved = true;
  if (route.status == MxStatus::kOk) {
    for (const MxHost& h : route.hosts) {
      for (const sockaddr_storage& a : h.addresses) {
        Target t;
        t.host = h.name;
        t.addr = a;
        if (a.ss_family == AF_INET) {
          reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port = htons(static_cast<uint16_t>(_config.mx_port));
          t.len = sizeof(sockaddr_in);
        } else {
          reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_port = htons(static_cast<uint16_t>(_config.mx_port));
          t.len = sizeof(sockaddr_in6);
        }
        d.targets.push_back(t);
      }
    }
  }
  if (d.targets.empty()) {
    d.route_permanent = mx_status_is_permanent(route.status);
    if (route.status == MxStatus::kNullMx) {
      d.route_code = 556;
      d.route_status = "5.1.10";  // RFC 7505
    } else if (route.status == MxStatus::kNoAddress) {
      d.route_code = 550;
      d.route_status = "5.4.4";  // RFC 3463: unable to route
    } else if (d.route_permanent) {
      d.route_code = 550;
      d.route_status = "5.1.2";
    } else {
      d.route_code = 451;
      d.route_status = "4.4.3";
    }
    d.route_error = route.error.empty() ? std::string(mx_status_name(route.status)) : route.error;
  }
  pump_dest(d);
}

// fail_queue ends every queued job of d with one local outcome.
void Shard::fail_queue(Destination& d, Outcome outcome, int code, const std::string& status,
                       const std::string& text) {
  while (!d.queue.empty()) {
    DeliveryJob job = std::move(d.queue.front());
    d.queue.pop_front();
    DeliveryResult r;
    r.message = job.message;
    for (uint32_t rcpt : job.rcpts) {
      r.outcomes.push_back({rcpt, outcome, code, status, text, "", ""});
    }
    send_to_shard(job.origin, std::move(r));
  }
  maybe_forget(d.key);
}

void Shard::maybe_forget(const std::string& key) {
  auto it = _dests.find(key);
  if (it != _dests.end() && it->second->queue.empty() && it->second->conns.empty() &&
      !it->second->resolving) {
    _dests.erase(it);  // the resolver's cache keeps the routing answer warm
  }
}

void Shard::open_conn(Destination& d) {
  uint32_t slot;
  if (!_out_free.empty()) {
    slot = _out_free.back();
    _out_free.pop_back();
  } else {
    slot = static_cast<uint32_t>(_out.size());
    _out.emplace_back();
  }
  OutboundConn& c = _out[slot];
  ++c.gen;
  c.dest_key = d.key;
  c.target = 0;
  c.messages = 0;
  c.shut = false;
  c.job.reset();
  d.conns.push_back(slot);
  ++_out_open;
  connect_next(slot);
}

// connect_next tries the connection's current target, or gives up when
// every target has failed.
void Shard::connect_next(uint32_t slot) {
  OutboundConn& c = _out[slot];
  Destination& d = *_dests.at(c.dest_key);
  if (c.target >= d.targets.size()) {
    release_out(slot);
    return;
  }
  const Target& t = d.targets[c.target];
  c.host = t.host;
  c.ip = peer_text(reinterpret_cast<const sockaddr*>(&t.addr));
  c.io.fd = socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.io.fd < 0) {
    d.last_error = absl::StrCat("socket: ", strerror(errno));
    ++c.target;
    connect_next(slot);
    return;
  }
  int one = 1;
  setsockopt(c.io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_connect(sqe, c.io.fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(sqe, encode(Op::kOutConnect, slot, c.gen));
  // A linked timeout bounds the connect precisely; it cancels the connect,
  // which then completes with -ECANCELED.
  _connect_timeout.tv_sec = static_cast<int64_t>(_config.connect_timeout_s);
  _connect_timeout.tv_nsec = 0;
  sqe = _ring->sqe();
  io_uring_prep_link_timeout(sqe, &_connect_timeout, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  c.connecting = true;
}

void Shard::on_outbound(const UserData& ud, io_uring_cqe* cqe) {
  if (ud.slot >= _out.size() || _out[ud.slot].gen != ud.gen || _out[ud.slot].io.fd < 0) {
    if (ud.op == Op::kOutRecv && (cqe->flags & IORING_CQE_F_BUFFER)) {
      _buffers->recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
    }
    return;
  }
  const uint32_t slot = ud.slot;
  OutboundConn& c = _out[slot];
  switch (ud.op) {
    case Op::kOutConnect:
      c.connecting = false;
      if (cqe->res < 0) {
        Destination& d = *_dests.at(c.dest_key);
        d.last_error = absl::StrCat("connect to ", c.host, "[", c.ip, "]: ",
                                    cqe->res == -ECANCELED ? "timed out" : strerror(-cqe->res));
        close(c.io.fd);
        c.io.fd = -1;
        ++c.target;
        if (_stopping) {
          release_out(slot);
        } else {
          connect_next(slot);
        }
        return;
      }
      {
        Destination& d = *_dests.at(c.dest_key);
        proto::ClientConfig cfg = _client_config;
        cfg.tls = d.tls_broken ? proto::TlsPolicy::kOff : d.nexthop.tls;
        if (cfg.tls == proto::TlsPolicy::kOpportunistic && tls_client() == nullptr) {
          cfg.tls = proto::TlsPolicy::kOff;
        }
        c.session = std::make_unique<proto::ClientSession>(cfg);
      }
      c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_config.smtp_timeout_s) * 1000;
      arm_out_recv(slot);
      break;
    case Op::kOutRecv: {
      bool more = cqe->flags & IORING_CQE_F_MORE;
      if (!more) {
        c.io.recv_armed = false;
      }
      if (cqe->res > 0) {
        auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (!c.shut) {
          out_data(slot, std::string_view(_buffers->data(id), static_cast<size_t>(cqe->res)));
          c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_config.smtp_timeout_s) * 1000 *
                                               (c.session->phase() == "dot" ? 2 : 1);
        }
        _buffers->recycle(id);
        if (!more && !c.shut) {
          arm_out_recv(slot);
        }
      } else if (cqe->res == -ENOBUFS) {
        if (!c.shut) {
          arm_out_recv(slot);
        }
      } else if (!c.shut) {
        c.session->on_connection_lost();
      }
      drive_out(slot);
      break;
    }
    case Op::kOutSend:
      switch (c.io.on_send(*_ring, c.shut ? -ECANCELED : cqe->res, encode(Op::kOutSend, slot, c.gen))) {
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
      drive_out(slot);
      break;
    default:
      break;
  }
}

void Shard::arm_out_recv(uint32_t slot) {
  OutboundConn& c = _out[slot];
  c.io.arm_recv(*_ring, _buffers->group(), encode(Op::kOutRecv, slot, c.gen));
}

// drive_out moves an outbound connection on after input, a send, or a
// timeout: hand back a finished transaction, start the next job, quit when
// done, send what the session wrote, close when it is over.
void Shard::drive_out(uint32_t slot) {
  OutboundConn& c = _out[slot];
  if (c.shut) {
    release_out(slot);
    return;
  }
  proto::ClientSession& s = *c.session;
  Destination& d = *_dests.at(c.dest_key);
  if (s.wants_tls() && !c.tls && !start_tls(slot)) {
    s.on_connection_lost();
  }
  for (;;) {
    if (s.has_result()) {
      finish_job(slot, s.take_result());
    }
    if (s.ready() && !c.job && !d.queue.empty() && c.messages < _config.messages_per_connection &&
        !_stopping) {
      start_job(slot);
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
  if (s.failed() && !c.was_ready) {
    shut_out(slot);  // release_out moves on to the next mail exchanger
    return;
  }
  if (s.ready()) {
    c.was_ready = true;
  }
  if (s.ready() && !c.job) {
    if (d.queue.empty() && !_stopping) {
      if (c.idle_since_ms == 0) {
        c.idle_since_ms = monotonic_ms();
      }
    } else {
      s.quit();
    }
  }
  flush_out(slot);
  if (s.closed() && c.io.sending.empty() && !c.io.send_in_flight) {
    shut_out(slot);
  }
}

void Shard::start_job(uint32_t slot) {
  OutboundConn& c = _out[slot];
  Destination& d = *_dests.at(c.dest_key);
  c.job = std::move(d.queue.front());
  d.queue.pop_front();
  c.idle_since_ms = 0;
  ++c.messages;
  const DeliveryJob& job = *c.job;
  proto::OutboundMessage m;
  m.sender = job.envelope->sender;
  for (uint32_t i : job.rcpts) {
    m.recipients.push_back(job.envelope->recipients[i]);
  }
  m.trace_headers = job.trace_headers;
  m.body = job.body;
  m.smtputf8 = job.envelope->smtputf8;
  m.body_type = job.envelope->body == proto::BodyType::k8BitMime || has_8bit(job.body)
                    ? proto::BodyType::k8BitMime
                    : job.envelope->body;
  c.session->send_message(m);
  c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_config.smtp_timeout_s) * 1000;
  flush_out(slot);  // a job handed to an idle connection has nobody else to send it
}

void Shard::finish_job(uint32_t slot, proto::TransactionResult&& t) {
  OutboundConn& c = _out[slot];
  if (!c.job) {
    return;
  }
  DeliveryJob& job = *c.job;
  DeliveryResult r;
  r.message = job.message;
  for (size_t i = 0; i < job.rcpts.size(); ++i) {
    const proto::Reply& reply = i < t.recipients.size() ? t.recipients[i].reply : t.data_reply;
    RcptOutcome o;
    o.rcpt = job.rcpts[i];
    o.code = reply.code;
    o.outcome = reply.code == 0 ? Outcome::kDeferred : outcome_for(reply.code);
    o.status = reply.enhanced;
    o.response = reply.text;
    o.host = c.host;
    o.ip = c.ip;
    r.outcomes.push_back(std::move(o));
  }
  send_to_shard(job.origin, std::move(r));
  c.job.reset();
}

void Shard::flush_out(uint32_t slot) {
  OutboundConn& c = _out[slot];
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
  c.io.start_send(*_ring, encode(Op::kOutSend, slot, c.gen));
}

// out_data takes bytes from the server: through TLS when it is on. The
// session's input waits in `pending` whenever it cannot take it yet.
void Shard::out_data(uint32_t slot, std::string_view data) {
  OutboundConn& c = _out[slot];
  if (c.tls) {
    std::string plain;
    absl::Status st = c.tls->receive(data, &plain);
    if (!st.ok()) {
      Destination& d = *_dests.at(c.dest_key);
      d.last_error = absl::StrCat("TLS with ", c.host, "[", c.ip, "] failed: ", st.message());
      if (d.nexthop.tls != proto::TlsPolicy::kRequired) {
        d.tls_broken = true;  // the next connection goes in plaintext
      }
      c.tls_failed = true;
      c.session->on_connection_lost();
      return;
    }
    if (c.tls->handshake_just_done()) {
      log_debug("shard %u: TLS with %s[%s]: %s %s", _id, c.host, c.ip, c.tls->version(), c.tls->cipher());
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

// start_tls begins the handshake after the server's 220 to STARTTLS.
bool Shard::start_tls(uint32_t slot) {
  OutboundConn& c = _out[slot];
  // Whatever followed the 220 came in plaintext before the handshake: a
  // man in the middle could have put it there (response injection).
  c.pending.clear();
  TlsContext* ctx = tls_client();
  if (ctx == nullptr) {
    _dests.at(c.dest_key)->last_error = "TLS is not available (see the log)";
    return false;
  }
  c.tls = std::make_unique<TlsSession>(*ctx, c.host);
  (void)c.tls->read(nullptr);  // produces the ClientHello
  return true;
}

TlsContext* Shard::tls_client() {
  if (!_tls_client && !_tls_client_failed) {
    // No verification (RFC 7435 opportunistic TLS, like Postfix's "may"
    // and "encrypt" levels): the point is encryption, not authentication.
    absl::StatusOr<std::unique_ptr<TlsContext>> ctx = TlsContext::client(TlsOptions{});
    if (ctx.ok()) {
      _tls_client = std::move(*ctx);
    } else {
      _tls_client_failed = true;
      log_error("shard %u: outbound TLS unavailable: %s", _id, ctx.status().message());
    }
  }
  return _tls_client.get();
}

void Shard::shut_out(uint32_t slot) {
  OutboundConn& c = _out[slot];
  if (!c.shut) {
    c.shut = true;
    if (c.job) {
      c.session->on_connection_lost();
      finish_job(slot, c.session->take_result());
    }
    c.io.shut(*_ring, encode(Op::kOutRecv, slot, c.gen));
  }
  release_out(slot);
}

// release_out frees the slot once the kernel holds nothing for it; a
// refused session moves on to the next target instead.
void Shard::release_out(uint32_t slot) {
  OutboundConn& c = _out[slot];
  if (!c.idle_ops()) {
    return;
  }
  c.io.release();
  auto it = _dests.find(c.dest_key);
  bool gave_up = false;
  if (it != _dests.end()) {
    Destination& d = *it->second;
    // A connection that never got a usable session (connect failed,
    // refused at the greeting or EHLO, dropped) moves on to the next mail
    // exchanger (RFC 5321 5.1); after the last one, it gives up.
    if (!c.was_ready && !_stopping) {
      if (c.session) {
        if (!c.tls_failed && (d.last_error.empty() || c.session->failed())) {
          d.last_error = absl::StrCat(c.host, "[", c.ip, "] ",
                                      c.session->failed() ? "refused the session: " : "closed the session early",
                                      c.session->failed() ? proto::format_reply(c.session->failure()) : "");
        }
        // After an opportunistic TLS failure the same host is tried again
        // in plaintext (tls_broken); anything else moves to the next host.
        if (!(c.tls_failed && d.tls_broken)) {
          ++c.target;
        }
        c.session.reset();
        c.tls.reset();
        c.tls_failed = false;
        c.plain_pos = 0;
        c.pending.clear();
        c.io.sending.clear();
      }
      if (c.target < d.targets.size()) {
        ++c.gen;
        c.shut = false;
        connect_next(slot);
        return;
      }
      gave_up = true;
    }
    std::erase(d.conns, slot);
    if (gave_up && d.conns.empty()) {
      // Nobody could be reached: defer what waits, rather than reconnect in a loop.
      fail_queue(d, Outcome::kDeferred, 451, "4.4.1",
                 d.last_error.empty() ? std::string("no mail exchanger answered") : d.last_error);
      it = _dests.find(c.dest_key);
    }
  }
  c.session.reset();
  c.tls.reset();
  c.tls_failed = false;
  c.plain_pos = 0;
  c.pending = std::string();
  c.job.reset();
  c.was_ready = false;
  --_out_open;
  _out_free.push_back(slot);
  if (it != _dests.end()) {
    if (!it->second->queue.empty() && !_stopping && !gave_up) {
      pump_dest(*it->second);
    } else {
      maybe_forget(c.dest_key);
    }
  }
}

void Shard::outbound_tick(int64_t now_ms) {
  for (uint32_t slot = 0; slot < _out.size(); ++slot) {
    OutboundConn& c = _out[slot];
    if (c.io.fd < 0 || c.shut || c.connecting || !c.session) {
      continue;
    }
    if (_stopping) {
      shut_out(slot);
    } else if (c.idle_since_ms != 0 && now_ms - c.idle_since_ms > kIdleKeepMs) {
      c.idle_since_ms = 0;
      c.session->quit();
      flush_out(slot);
    } else if (c.idle_since_ms == 0 && now_ms > c.deadline_ms) {
      c.session->on_timeout();
      drive_out(slot);
    }
  }
}

}  // namespace ringmta
