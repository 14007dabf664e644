// engine/inbound/inbound_auth.cc — the inbound half of SMTP AUTH (the
// credentials go to the auth thread, engine/auth/auth_service.h; verdicts
// come back through an eventfd read on the ring), and of SIGHUP's
// certificate reload.
#include <liburing.h>
#include <sys/socket.h>

#include "engine/inbound/inbound.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

// A failed AUTH is answered this late, so that guessing passwords is slow
// even on many connections at once (the per-IP failure limit caps those).
constexpr int64_t kAuthFailureDelayMs = 1000;

}  // namespace

void Inbound::arm_auth_read() {
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_read(sqe, _services.auth->ready_fd(_ctx.id), &_auth_ready_count, sizeof _auth_ready_count, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kAuth));
}

void Inbound::start_auth(uint32_t slot) {
  Connection& c = _conns[slot];
  proto::ServerSession& s = *c.session;
  proto::AuthRequest request = s.take_auth_request();
  const auto* peer = reinterpret_cast<const sockaddr*>(&c.peer);
  if (c.holds_ip_slot && _services.limits->auth_blocked(peer, monotonic_ms())) {
    log_warn("shard %u: AUTH from %s refused: too many failures this minute", _ctx.id, peer_text(peer));
    s.on_auth_blocked();
    return;
  }
  AuthJob job{slot, c.gen, std::move(request.user), std::move(request.password)};
  if (!_services.auth->submit(_ctx.id, std::move(job))) {
    log_warn("shard %u: AUTH from %s: the auth thread is overloaded (454)", _ctx.id, peer_text(peer));
    s.on_auth_unavailable();
  }
}

void Inbound::on_auth_ready() {
  const int64_t now = monotonic_ms();
  while (std::optional<AuthVerdict> v = _services.auth->take(_ctx.id)) {
    Connection* c = live(v->slot, v->gen);
    if (c == nullptr || c->shut) {
      continue;  // the client left while its password was being checked
    }
    const auto* peer = reinterpret_cast<const sockaddr*>(&c->peer);
    if (v->ok) {
      c->session->on_auth_result(true);
      log_info("shard %u: AUTH ok for '%s' from %s", _ctx.id, c->session->auth_user(), peer_text(peer));
      run_session(v->slot);
      continue;
    }
    if (c->holds_ip_slot) {
      _services.limits->auth_failed(peer, now);
    }
    log_warn("shard %u: AUTH failed from %s", _ctx.id, peer_text(peer));
    _auth_delayed.push_back({now + kAuthFailureDelayMs, v->slot, v->gen});
  }
  arm_auth_read();
}

void Inbound::answer_delayed_auth(int64_t now_ms) {
  while (!_auth_delayed.empty() && _auth_delayed.front().due_ms <= now_ms) {
    DelayedAuth d = _auth_delayed.front();
    _auth_delayed.pop_front();
    Connection* c = live(d.slot, d.gen);
    if (c == nullptr || c->shut) {
      continue;
    }
    c->session->on_auth_result(false);
    run_session(d.slot);
  }
}

void Inbound::arm_reload_read() {
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_read(sqe, _services.reload_fd, &_reload_count, sizeof _reload_count, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kReload));
}

// on_reload takes the context main() loaded on SIGHUP. Sessions already
// running keep the old one (each holds a reference to its wolfSSL context).
void Inbound::on_reload() {
  if (TlsContext* fresh = _services.tls_reload.exchange(nullptr)) {
    _tls_server.reset(fresh);
    log_info("shard %u: TLS certificate reloaded", _ctx.id);
  }
  if (!_ctx.stopping) {
    arm_reload_read();
  }
}

}  // namespace ringmta
