// engine/shard.cc — a shard's life: set-up on its own thread, the loop, dispatching
// completions, the once-a-second tick and a clean stop. Sessions begin and end
// in shard_sessions.cc, their I/O is shard_io.cc.
#include "engine/shard.h"

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"
#include "spool/layout.h"

namespace ringmta {
namespace {

// Receive buffers: 1024 × 16 KiB per shard. Shared by all connections of
// the shard through the provided-buffer ring, and each is returned as soon
// as its bytes are parsed, so this bounds memory, not connections.
constexpr uint32_t kRecvBuffers = 1024;
constexpr uint32_t kRecvBufferSize = 16384;
constexpr uint16_t kBufferGroup = 0;
constexpr unsigned kRingEntries = 4096;
constexpr int kTickMs = 1000;

}  // namespace

int64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
}

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Shard::Shard(unsigned id, const Config& config, std::vector<int> listen_fds, std::vector<bool> listen_tls,
             Mesh* mesh, int stop_fd, std::string max_queue_id, int event_log_fd, ShardServices* services)
    : _id(id),
      _config(config),
      _listen_fds(std::move(listen_fds)),
      _listen_tls(std::move(listen_tls)),
      _services(services),
      _tls_server(std::move(services->tls_server)),
      _accept_armed(_listen_fds.size(), false),
      _mesh(mesh),
      _stop_fd(stop_fd),
      _max_queue_id(std::move(max_queue_id)),
      _events(event_log_fd, id) {}

Shard::~Shard() {
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
  for (OwnSegment& seg : _segs) {
    if (seg.fd >= 0) {
      close(seg.fd);
    }
  }
  if (_dir_fd >= 0) {
    close(_dir_fd);
  }
}

absl::Status Shard::setup() {
  // The ring is created here, on the shard's own thread: SINGLE_ISSUER ties
  // it to the thread that creates it.
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::create(kRingEntries);
  if (!ring.ok()) {
    return ring.status();
  }
  _ring = std::move(*ring);
  absl::StatusOr<std::unique_ptr<BufferRing>> buffers =
      BufferRing::create(_ring->raw(), kBufferGroup, kRecvBuffers, kRecvBufferSize);
  if (!buffers.ok()) {
    return buffers.status();
  }
  _buffers = std::move(*buffers);
  _events.set_ring(_ring.get());
  spool::WriterOptions wo;
  wo.segment_bytes = _config.segment_size;
  absl::StatusOr<std::unique_ptr<spool::SegmentWriter>> writer =
      spool::SegmentWriter::open(spool::shard_dir(_config.spool_dir, _id), wo);
  if (!writer.ok()) {
    return writer.status();
  }
  _spool = std::move(*writer);
  note_segment();
  // The directory's fd: segments are deleted with unlinkat on it and the
  // deletion made durable with an fsync of it, both through the ring.
  const std::string dir = spool::shard_dir(_config.spool_dir, _id);
  _dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (_dir_fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", dir));
  }
  _ids = std::make_unique<spool::QueueIdGenerator>(_id);
  if (!_max_queue_id.empty()) {
    _ids->observe(_max_queue_id);
  }

  _session_config.hostname = _config.hostname;
  _session_config.limits.max_command_line = _config.max_command_line;
  _session_config.limits.max_text_line = _config.max_text_line;
  _session_config.limits.max_message_size = _config.max_message_size;
  _session_config.limits.max_recipients = _config.max_recipients;
  _session_config.limits.max_errors = static_cast<int>(_config.max_errors);
  _session_config.limits.max_junk_commands = _config.max_junk_commands;
  _session_config.local_domains.insert(_config.local_domains.begin(), _config.local_domains.end());
  _session_config.new_queue_id = [this] { return _ids->next(absl::Now()); };
  _client_config.helo_name = _config.hostname;
  // One TLS context per shard (main() built it): a context is never used
  // by two threads.
  _session_config.starttls_available = _tls_server != nullptr;
  if (_services->auth != nullptr) {
    _session_config.auth_available = true;
    _session_config.auth_requires_tls = _config.auth_require_tls;
    _session_config.auth_required = _config.auth_required;
  }

  _mesh->attach(_id, _ring->fd());
  log_debug("shard %u: ring %s, spool segment %s", _id, _ring->mode(), _spool->segment_path());
  return absl::OkStatus();
}

absl::Status Shard::run() {
  absl::Status s = setup();
  if (!s.ok()) {
    return s;
  }
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    arm_accept(i);
  }
  // One poll on the shared stop eventfd; nobody reads it, so it stays
  // readable and every shard's poll fires.
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_poll_add(sqe, _stop_fd, POLLIN);
  io_uring_sqe_set_data64(sqe, encode(Op::kStop));
  if (_services->auth != nullptr) {
    arm_auth_read();
  }
  if (_services->reload_fd >= 0) {
    arm_reload_read();
  }
  loop();
  return absl::OkStatus();
}

void Shard::loop() {
  _next_tick_ms = monotonic_ms() + kTickMs;
  for (;;) {
    _mesh->drain(_id, [this](ShardMessage&& m) { on_message(std::move(m)); });
    if (_resolver) {
      _resolver->run_deferred();  // answers from its cache, never re-entrant
    }
    flush_outbox();
    pump_spool();
    pump_loads();
    _events.flush();
    // Reads and deletions in flight must end before the ring does: the
    // kernel writes into a read's buffer until its completion.
    if (_stopping && _open_conns == 0 && _out_open == 0 && _waiters.empty() && !_spool->in_flight() &&
        !_spool->can_start_batch() && _events.idle() && _reads_in_flight == 0 && !_gc_busy) {
      break;
    }
    _mesh->publish(_id, _ring->raw());
    int64_t now = monotonic_ms();
    bool may_sleep = _mesh->prepare_sleep(_id);
    // Sleep until a completion arrives or the next tick; a busy shard does
    // not sleep at all. (Waiting for several completions at once, like NIC
    // interrupt coalescing, was tried: its timer wake-ups cost more CPU per
    // message than they saved.)
    int64_t timeout_us = may_sleep ? std::max<int64_t>(0, _next_tick_ms - now) * 1000 : 0;
    if (_state_pending_since_ms != 0) {
      timeout_us = std::min<int64_t>(timeout_us, kStateFlushMs * 1000);  // see pump_spool
    }
    if (!_auth_delayed.empty()) {
      timeout_us = std::min<int64_t>(timeout_us, std::max<int64_t>(0, _auth_delayed.front().due_ms - now) * 1000);
    }
    if (_resolver && timeout_us > 0) {
      // c-ares may need to resend a query before the next tick.
      int64_t bound = _resolver->wait_bound_us();
      if (bound >= 0) {
        timeout_us = std::min(timeout_us, bound);
      }
    }
    int r = _ring->submit_and_wait(1, timeout_us);
    _mesh->woke_up(_id);
    if (r < 0 && r != -EBUSY) {
      log_error("shard %u: io_uring_submit_and_wait: %s", _id, strerror(-r));
    }
    _ring->for_each_cqe([this](io_uring_cqe* cqe) { dispatch(cqe); });
    _buffers->flush();
    now = monotonic_ms();
    if (!_auth_delayed.empty()) {
      answer_delayed_auth(now);
    }
    if (now >= _next_tick_ms) {
      on_tick(now);
      _next_tick_ms = now + kTickMs;
    }
  }
  // Whatever is still queued (cancel requests) goes out before the ring closes.
  io_uring_submit(_ring->raw());
  log_info("shard %u: spool: %llu records read back (%llu failed), %llu messages copied forward, "
           "%llu segments deleted, %zu messages live, at most %llu bytes of content in memory",
           _id, static_cast<unsigned long long>(_stats.loads),
           static_cast<unsigned long long>(_stats.load_failures),
           static_cast<unsigned long long>(_stats.copies),
           static_cast<unsigned long long>(_stats.segments_deleted), _live.size(),
           static_cast<unsigned long long>(_stats.peak_body_bytes));
}

void Shard::dispatch(io_uring_cqe* cqe) {
  UserData ud = decode(cqe->user_data);
  switch (ud.op) {
    case Op::kAccept:
      on_accept(ud.slot, cqe);
      break;
    case Op::kRecv:
      if (live(ud.slot, ud.gen) != nullptr) {
        on_recv(ud.slot, cqe);
      } else if (cqe->flags & IORING_CQE_F_BUFFER) {
        _buffers->recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
      }
      break;
    case Op::kSend:
      if (live(ud.slot, ud.gen) != nullptr) {
        on_send(ud.slot, cqe);
      }
      break;
    case Op::kSpoolWrite:
      on_spool_write(ud.gen, cqe->res);
      break;
    case Op::kStop:
      begin_stop();
      break;
    case Op::kDns:
      if (_resolver) {
        _resolver->on_cqe(cqe);
      }
      break;
    case Op::kEventLog:
      _events.on_write(cqe->res);
      break;
    case Op::kSpoolRead:
      on_spool_read(ud.slot, ud.gen, cqe->res);
      break;
    case Op::kSpoolUnlink:
      on_segment_unlinked(cqe->res);
      break;
    case Op::kSpoolDirSync:
      on_spool_dir_synced(cqe->res);
      break;
    case Op::kOutConnect:
    case Op::kOutRecv:
    case Op::kOutSend:
      on_outbound(ud, cqe);
      break;
    case Op::kAuth:
      on_auth_ready();
      break;
    case Op::kReload:
      on_reload();
      break;
    case Op::kWake:
    case Op::kCancel:
    case Op::kTick:
    case Op::kNone:
      break;
  }
}

Resolver& Shard::resolver() {
  if (!_resolver) {
    ResolverOptions o;
    o.servers = _config.resolver;
    o.seed = _id + 1;
    absl::StatusOr<std::unique_ptr<Resolver>> r = Resolver::create(_ring.get(), o);
    if (!r.ok()) {
      // main() checked the resolver settings at start, so this is a failure
      // of the moment (no memory, no sockets). Without a resolver nothing
      // routed by MX can go out: stop rather than run half-working.
      log_error("shard %u: DNS resolver: %s", _id, r.status().message());
      std::abort();
    }
    _resolver = std::move(*r);
  }
  return *_resolver;
}

void Shard::on_tick(int64_t now_ms) {
  if (!_stopping) {
    run_retries(absl::Now());
  }
  retention_tick(now_ms);
  outbound_tick(now_ms);
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Connection& c = _conns[slot];
    if (c.io.fd < 0 || c.shut || c.session->closing()) {
      continue;
    }
    if (_stopping && now_ms >= _stop_deadline_ms && !c.session->waiting()) {
      c.session->on_shutdown();
      flush(slot);
      continue;
    }
    check_timers(slot, now_ms);
  }
}

void Shard::begin_stop() {
  if (_stopping) {
    return;
  }
  _stopping = true;
  _stop_deadline_ms = monotonic_ms() + static_cast<int64_t>(_config.shutdown_grace_s) * 1000;
  // Stop accepting: closing the listener ends its multishot accept.
  for (uint32_t i = 0; i < _listen_fds.size(); ++i) {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_cancel64(sqe, encode(Op::kAccept, i), 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
  // Sessions between messages are told now; those inside a message get
  // until the grace deadline to finish it (on_tick), and are told after
  // their message is stored (store settles call run_session).
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    Connection& c = _conns[slot];
    if (c.io.fd >= 0 && !c.shut && !c.session->closing() && !c.session->in_message() &&
        !c.session->waiting()) {
      c.session->on_shutdown();
      flush(slot);
    }
  }
}

}  // namespace ringmta
