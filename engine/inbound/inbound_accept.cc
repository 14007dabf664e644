// engine/inbound/inbound_accept.cc — how inbound sessions begin and end:
// multishot accept with the connection and per-client-IP limits, and the
// timers that close sessions that are idle, too slow or too old.
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

void Inbound::arm_accept(uint32_t listener) {
  io_uring_sqe* sqe = _ctx.ring.sqe();
  // Multishot accept: one request yields a completion per connection.
  io_uring_prep_multishot_accept(sqe, _listen_fds[listener], nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, encode(Op::kAccept, listener));
}

void Inbound::on_accept(uint32_t listener, io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    if (!_ctx.stopping && cqe->res != -ECANCELED) {
      arm_accept(listener);
    }
  }
  if (cqe->res < 0) {
    if (cqe->res != -ECANCELED) {
      log_warn("shard %u: accept: %s", _ctx.id, strerror(-cqe->res));
    }
    return;
  }
  int fd = cqe->res;
  // Refusals are polite but cost nothing: one non-blocking send, then close.
  auto refuse = [fd](std::string_view reply) {
    [[maybe_unused]] ssize_t w = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
  };
  if (_ctx.stopping || _conns.in_use() >= _ctx.config.max_connections) {
    refuse("421 4.3.2 Too many connections, try again later\r\n");
    return;
  }
  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
  const auto* peer_addr = reinterpret_cast<const sockaddr*>(&peer);
  const int64_t now_ms = monotonic_ms();
  const bool may_relay = any_contains(_ctx.config.relay_networks, peer_addr);
  // The relay networks (the applications that submit the mail) are exempt
  // from the per-IP limits, as Postfix exempts $mynetworks.
  const bool limited = !may_relay && _services.limits != nullptr;
  if (limited) {
    switch (_services.limits->admit(peer_addr, now_ms)) {
      case ClientLimits::Verdict::kOk:
        break;
      case ClientLimits::Verdict::kTooManyConnections:
        refuse("421 4.7.0 Too many connections from your address, try again later\r\n");
        return;
      case ClientLimits::Verdict::kTooFast:
        refuse("421 4.7.0 Too many new connections from your address, slow down\r\n");
        return;
    }
  }

  const uint32_t slot = _conns.acquire();
  Connection& c = _conns[slot];
  c.io.fd = fd;
  ++c.gen;
  c.shut = false;
  c.recv_paused = false;
  c.peer = peer;
  c.holds_ip_slot = limited;
  c.accepted_ms = now_ms;
  c.last_activity_ms = now_ms;
  c.last_command_ms = now_ms;
  c.commands_seen = 0;
  c.message_start_ms = 0;
  proto::ClientInfo client;
  client.tls = _listen_tls[listener];
  client.addr = peer_text(peer_addr);
  client.may_relay = may_relay;
  const bool client_tls = client.tls;
  c.session = std::make_unique<proto::ServerSession>(_session_config, std::move(client));
  ++_accepted;
  if (client_tls) {
    // Implicit TLS: the greeting waits for the handshake (flush holds it).
    c.tls = std::make_unique<TlsSession>(*_tls_server, "");
  }
  c.session->start();
  arm_recv(slot);
  flush(slot);
}

// check_timers closes a session that is idle, too slow or too old:
// - between commands: timeout_command since the last COMPLETED command
//   (bytes that never make a command do not count);
// - inside a message: timeout_data without any bytes, or less than
//   min_data_rate on average once timeout_data has passed (Postfix's
//   smtpd_min_data_rate): a 1 byte/s trickle is closed after about
//   timeout_data seconds;
// - max_session_time since accept, but only between messages.
void Inbound::check_timers(uint32_t slot, int64_t now_ms) {
  Connection& c = _conns[slot];
  proto::ServerSession& s = *c.session;
  if (s.waiting()) {
    return;  // the engine owes the client an answer; not the client's fault
  }
  const int64_t command_ms = static_cast<int64_t>(_ctx.config.timeout_command_s) * 1000;
  const int64_t data_ms = static_cast<int64_t>(_ctx.config.timeout_data_s) * 1000;
  bool expired = false;
  if (c.message_start_ms == 0) {
    expired = now_ms - c.last_command_ms > command_ms;
  } else {
    const int64_t earned_ms =
        _ctx.config.min_data_rate == 0
            ? INT64_MAX / 2
            : static_cast<int64_t>(s.message_bytes() * 1000 / _ctx.config.min_data_rate);
    expired = now_ms - c.last_activity_ms > data_ms ||
              now_ms - c.message_start_ms > data_ms + earned_ms;
  }
  if (expired) {
    s.on_timeout();
    flush(slot);
    return;
  }
  if (_ctx.config.max_session_time_s != 0 && c.message_start_ms == 0 &&
      now_ms - c.accepted_ms > static_cast<int64_t>(_ctx.config.max_session_time_s) * 1000) {
    s.on_session_expired();
    flush(slot);
  }
}

}  // namespace ringmta
