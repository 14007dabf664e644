// engine/inbound/inbound.cc — the inbound component: the session settings,
// routing its completions, its timers, answering sessions from the store,
// and a clean stop (inbound.h).
#include "engine/inbound/inbound.h"

#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "engine/runtime/clock.h"

namespace ringmta {

Inbound::Inbound(const ShardContext& ctx, std::vector<int> listen_fds, std::vector<bool> listen_tls,
                 ShardServices& services, Signing& signing, Store& store, Suppression* suppression)
    : _ctx(ctx),
      _services(services),
      _signing(signing),
      _store(store),
      _listen_fds(std::move(listen_fds)),
      _listen_tls(std::move(listen_tls)),
      _tls_server(std::move(services.tls_server)) {
  const Config& config = ctx.config;
  _session_config.hostname = config.hostname;
  _session_config.limits.max_command_line = config.max_command_line;
  _session_config.limits.max_text_line = config.max_text_line;
  _session_config.limits.max_message_size = config.max_message_size;
  _session_config.limits.max_recipients = config.max_recipients;
  _session_config.limits.max_errors = static_cast<int>(config.max_errors);
  _session_config.limits.max_junk_commands = config.max_junk_commands;
  _session_config.local_domains.insert(config.local_domains.begin(), config.local_domains.end());
  _session_config.require_list_unsubscribe = config.require_list_unsubscribe;
  _session_config.postmaster = config.postmaster;
  _session_config.new_queue_id = [this] { return _store.new_queue_id(); };
  // Feedback domains take mail from anyone (returned DSNs and complaints,
  // engine/suppression/feedback.h), with VERP's long local parts.
  _session_config.feedback_domains.insert(config.feedback_domains.begin(), config.feedback_domains.end());
  if (suppression != nullptr) {
    _session_config.rcpt_refusal = [this, suppression](std::string_view rcpt) {
      const size_t at = rcpt.rfind('@');
      if (at != std::string_view::npos &&
          _session_config.feedback_domains.contains(absl::string_view(rcpt.data() + at + 1, rcpt.size() - at - 1))) {
        return std::string();  // our own feedback addresses are never suppressed
      }
      return suppression->rcpt_refusal(rcpt);
    };
  }
  // One TLS context per shard (main() built it): a context is never used
  // by two threads.
  _session_config.starttls_available = _tls_server != nullptr;
  if (_services.auth != nullptr) {
    _session_config.auth_available = true;
    _session_config.auth_requires_tls = config.auth_require_tls;
    _session_config.auth_required = config.auth_required;
  }
}

Inbound::~Inbound() {
  for (int fd : _listen_fds) {
    if (fd >= 0) {
      close(fd);
    }
  }
  for (Connection& c : _conns) {
    if (c.io.fd >= 0) {
      close(c.io.fd);
    }
  }
}

void Inbound::start() {
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    arm_accept(i);
  }
  if (_services.auth != nullptr) {
    arm_auth_read();
  }
  if (_services.reload_fd >= 0) {
    arm_reload_read();
  }
}

void Inbound::on_completion(const UserData& ud, io_uring_cqe* cqe) {
  switch (ud.op) {
    case Op::kAccept:
      on_accept(ud.slot, cqe);
      break;
    case Op::kRecv:
      if (live(ud.slot, ud.gen) != nullptr) {
        on_recv(ud.slot, cqe);
      } else if (cqe->flags & IORING_CQE_F_BUFFER) {
        _ctx.buffers.recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
      }
      break;
    case Op::kSend:
      if (live(ud.slot, ud.gen) != nullptr) {
        on_send(ud.slot, cqe);
      }
      break;
    case Op::kAuth:
      on_auth_ready();
      break;
    case Op::kReload:
      on_reload();
      break;
    default:
      break;
  }
}

int64_t Inbound::wait_bound_us(int64_t now_ms) const {
  if (_auth_delayed.empty()) {
    return -1;
  }
  return std::max<int64_t>(0, _auth_delayed.front().due_ms - now_ms) * 1000;
}

void Inbound::after_wait(int64_t now_ms) {
  if (!_auth_delayed.empty()) {
    answer_delayed_auth(now_ms);
  }
}

void Inbound::on_tick(int64_t now_ms) {
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Connection& c = _conns[slot];
    if (c.io.fd < 0 || c.shut || c.session->closing()) {
      continue;
    }
    if (_ctx.stopping && now_ms >= _stop_deadline_ms && !c.session->waiting()) {
      c.session->on_shutdown();
      flush(slot);
      continue;
    }
    check_timers(slot, now_ms);
  }
}

void Inbound::begin_stop() {
  _stop_deadline_ms = monotonic_ms() + static_cast<int64_t>(_ctx.config.shutdown_grace_s) * 1000;
  // Stop accepting: cancelling ends the multishot accept.
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    io_uring_sqe* sqe = _ctx.ring.sqe();
    io_uring_prep_cancel64(sqe, encode(Op::kAccept, i), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
  // Sessions between messages are told now; those inside a message get
  // until the grace deadline to finish it (on_tick), and are told after
  // their message is stored (run_session, from on_stored).
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Connection& c = _conns[slot];
    if (c.io.fd >= 0 && !c.shut && !c.session->closing() && !c.session->in_message() && !c.session->waiting()) {
      c.session->on_shutdown();
      flush(slot);
    }
  }
}

void Inbound::on_stored(uint32_t slot, uint32_t gen, bool ok) {
  Connection* c = live(slot, gen);
  if (c == nullptr || c->shut) {
    return;  // the client left; the message is spooled (or failed) all the same
  }
  if (ok) {
    c->session->on_stored();
  } else {
    c->session->on_store_failed();
  }
  run_session(slot);
}

}  // namespace ringmta
