// engine/shard.cc — a shard's life: building its components on its own
// thread and wiring them, the loop, routing completions to their owners,
// and a clean stop (shard.h).
#include "engine/shard.h"

#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/admin/admin_api.h"
#include "engine/admin/admin_server.h"
#include "engine/delivery/delivery.h"
#include "engine/dkim/signing.h"
#include "engine/inbound/inbound.h"
#include "engine/inbound/pickup.h"
#include "engine/observe/webhook_shipper.h"
#include "engine/outbound/outbound.h"
#include "engine/runtime/buffer_ring.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"
#include "engine/runtime/ring.h"
#include "engine/shard_context.h"
#include "engine/store/content_loader.h"
#include "engine/store/retention.h"
#include "engine/store/segments.h"
#include "engine/store/store.h"
#include "engine/suppression/feedback.h"
#include "engine/suppression/suppression.h"

namespace ringmta {
namespace {

// Receive buffers: 1024 × 16 KiB per shard. Shared by all connections of
// the shard (inbound and outbound) through the provided-buffer ring, and
// each is returned as soon as its bytes are parsed, so this bounds memory,
// not connections.
constexpr uint32_t kRecvBuffers = 1024;
constexpr uint32_t kRecvBufferSize = 16384;
constexpr uint16_t kBufferGroup = 0;
constexpr unsigned kRingEntries = 4096;
constexpr int kTickMs = 1000;

}  // namespace

Shard::Shard(unsigned id, const Config& config, std::vector<int> listen_fds, std::vector<bool> listen_tls,
             std::vector<int> admin_fds, Mesh* mesh, int stop_fd, StoreStart store_start, int event_log_fd, ShardServices* services)
    : _id(id),
      _config(config),
      _listen_fds(std::move(listen_fds)),
      _listen_tls(std::move(listen_tls)),
      _admin_fds(std::move(admin_fds)),
      _mesh(mesh),
      _stop_fd(stop_fd),
      _store_start(std::move(store_start)),
      _event_log_fd(event_log_fd),
      _services(services) {}

Shard::~Shard() {
  // Components go first (they close their fds), the ring last.
  _webhooks.reset();
  _admin.reset();
  _inbound.reset();
  _signing.reset();
  _delivery.reset();
  _outbound.reset();
  _shaping.reset();
  _feedback.reset();
  _suppression.reset();
  _events.reset();
  _retention.reset();
  _loader.reset();
  _store.reset();
  _segments.reset();
  for (int fd : _listen_fds) {  // set-up failed before Inbound took them
    if (fd >= 0) {
      close(fd);
    }
  }
}

void Shard::adopt(const spool::RecoveredMessage& r) { _adopted.push_back(_table.add(live_from_recovered(r, _table.domains()))); }

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
  _ctx = std::make_unique<ShardContext>(ShardContext{_id, _config, *_ring, *_buffers, false});
  _outbox = std::make_unique<MeshOutbox<ShardMessage>>(*_mesh, _id);

  // Each component gets only what it hands work to, down the flow.
  _segments = std::make_unique<Segments>(*_ctx, _recovered);
  _store = std::make_unique<Store>(*_ctx, *_segments);
  _loader = std::make_unique<ContentLoader>(*_ctx, _table, *_segments, *_store);
  _retention = std::make_unique<Retention>(*_ctx, _table, *_store, *_segments, *_loader);
  _events = std::make_unique<EventLog>(_event_log_fd, _id);
  _events->set_ring(_ring.get());
  _shaping = std::make_unique<ShapingTables>(_config.shaping, _services->shaping_reload);
  if (_services->suppression != nullptr) {
    _suppression = std::make_unique<Suppression>(*_ctx, *_services->suppression, *_events);
    if (!_config.feedback_domains.empty()) {
      _feedback = std::make_unique<Feedback>(*_ctx, *_suppression, *_events);
    }
  }
  _outbound = std::make_unique<Outbound>(*_ctx, *_outbox, *_events, *_shaping);
  _delivery = std::make_unique<Delivery>(*_ctx, _table, *_store, *_loader, *_retention, *_outbox, *_events,
                                         *_shaping, _suppression.get(), _feedback.get());
  _signing = std::make_unique<Signing>(*_ctx, _services->signing, *_store);
  _inbound = std::make_unique<Inbound>(*_ctx, std::move(_listen_fds), std::move(_listen_tls), *_services,
                                       *_signing, *_store, _suppression.get());
  _listen_fds.clear();
  if (_id == 0 && _services->pickup != nullptr) {
    _pickup = std::make_unique<Pickup>(*_ctx, *_services->pickup, *_signing, *_store, _suppression.get());
  }
  if (_services->admin_state != nullptr) {
    _outbound->set_blocks(_services->admin_state->blocks(absl::ToUnixSeconds(absl::Now())), 0);
  }
  if (!_admin_fds.empty()) {
    _admin_api = std::make_unique<AdminApi>(*_ctx, _services->metrics, _services->admin_state, *_signing, *_store,
                                            *_outbox, _suppression.get(),
                                            [this](AdminRequestRef ref, const AdminResponse& r) {
                                              _admin->respond(ref, r);
                                            });
    _admin = std::make_unique<AdminServer>(*_ctx, std::move(_admin_fds), _services->admin_access, *_admin_api,
                                           _services->admin_tls.get());
    _admin_fds.clear();
  }
  // One shard ships the shared event log for all (webhook_shipper.h).
  if (_id == 0 && !_config.webhooks.empty() && _event_log_fd >= 0) {
    _webhooks = std::make_unique<WebhookShipper>(*_ctx, _event_log_fd);
  }
  wire();

  // The writer makes the shard's directory; Segments opens it after.
  absl::Status s = _store->open(_store_start);
  if (s.ok()) {
    s = _segments->open();
  }
  if (!s.ok()) {
    return s;
  }
  for (uint64_t handle : _adopted) {
    _delivery->adopt(handle);
  }
  _adopted = {};
  _mesh->attach(_id, _ring->fd());
  log_debug("shard %u: ring %s, spool segment %s", _id, _ring->mode(), _store->segment_path());
  return absl::OkStatus();
}

// wire connects the callbacks that go up the flow (answers, durable
// messages, loaded content) and says which component owns which ops.
void Shard::wire() {
  _store->set_hooks({
      [this](uint32_t slot, uint32_t gen, bool ok) { on_stored(slot, gen, ok); },
      [this](std::unique_ptr<proto::CompletedMessage> m, SpoolRef ref, bool generated) {
        _delivery->deliver(std::move(m), ref, generated);
      },
      [this](bool ok, uint64_t through) { _retention->on_settled(ok, through); },
  });
  _signing->set_hooks({[this](uint32_t slot, uint32_t gen) { on_stored(slot, gen, false); }});
  _loader->set_hooks({
      [this](uint64_t handle) { _delivery->on_loaded(handle); },
      [this](uint64_t handle) { _delivery->on_load_failed(handle); },
  });
  own({Op::kAccept, Op::kRecv, Op::kSend, Op::kAuth, Op::kReload}, _inbound.get());
  own({Op::kSign}, _signing.get());
  own({Op::kSpoolWrite}, _store.get());
  own({Op::kSpoolRead}, _loader.get());
  own({Op::kSpoolUnlink, Op::kSpoolDirSync}, _segments.get());
  own({Op::kEventLog}, _events.get());
  own({Op::kOutConnect, Op::kOutRecv, Op::kOutSend, Op::kDns}, _outbound.get());
  // Poll and tick order: results and retries first, then what they queued.
  _components = {_delivery.get(), _retention.get(), _outbound.get(), _signing.get(), _store.get(),
                 _loader.get(),   _segments.get(),  _inbound.get(),   _events.get()};
  if (_pickup) {  // before Signing, which flushes what it submits
    _components.insert(std::find(_components.begin(), _components.end(), _signing.get()), _pickup.get());
  }
  if (_admin) {
    own({Op::kAdminAccept, Op::kAdminRecv, Op::kAdminSend}, _admin.get());
    _components.push_back(_admin.get());
  }
  if (_suppression) {
    _components.push_back(_suppression.get());
  }
  if (_webhooks) {
    own({Op::kHookRead, Op::kHookConnect, Op::kHookRecv, Op::kHookSend, Op::kHookOffset}, _webhooks.get());
    _components.push_back(_webhooks.get());
  }
}

// on_stored: a message someone waits for is durable or failed: an SMTP
// session's, an HTTP injection's (its slot has kAdminSlotBit), or a
// maildrop file's (kPickupSlotBit).
void Shard::on_stored(uint32_t slot, uint32_t gen, bool ok) {
  if (slot != Store::kNoSession && (slot & kPickupSlotBit) && _pickup) {
    _pickup->on_stored(slot, gen, ok);
    return;
  }
  if (slot != Store::kNoSession && (slot & kAdminSlotBit) && _admin_api) {
    _admin_api->injection().on_stored(slot & ~kAdminSlotBit, gen, ok);
    return;
  }
  _inbound->on_stored(slot, gen, ok);
}

void Shard::own(std::initializer_list<Op> ops, Component* c) {
  for (Op op : ops) {
    _owner[static_cast<size_t>(op)] = c;
  }
}

absl::Status Shard::run() {
  absl::Status s = setup();
  if (!s.ok()) {
    return s;
  }
  _inbound->start();
  _signing->start();
  if (_admin) {
    _admin->start();
  }
  if (_webhooks) {
    _webhooks->start();
  }
  // One poll on the shared stop eventfd; nobody reads it, so it stays
  // readable and every shard's poll fires.
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_poll_add(sqe, _stop_fd, POLLIN);
  io_uring_sqe_set_data64(sqe, encode(Op::kStop));
  loop();
  return absl::OkStatus();
}

void Shard::loop() {
  _next_tick_ms = monotonic_ms() + kTickMs;
  // A first snapshot before the first wait: an idle shard sleeps up to a
  // tick, and a scrape meanwhile must still see every shard.
  publish_metrics(monotonic_ms(), true);
  int64_t busy_start_us = 0;
  for (;;) {
    _mesh->drain(_id, [this](ShardMessage&& m) { on_mesh(std::move(m)); });
    for (Component* c : _components) {
      c->poll();
    }
    _outbox->flush();
    // Reads and deletions in flight must end before the ring does: the
    // kernel writes into a read's buffer until its completion.
    if (_ctx->stopping && drained()) {
      break;
    }
    _mesh->publish(_id, _ring->raw());
    int64_t now = monotonic_ms();
    // Sleep until a completion arrives or the next tick; a busy shard does
    // not sleep at all. (Waiting for several completions at once, like NIC
    // interrupt coalescing, was tried: its timer wake-ups cost more CPU per
    // message than they saved.)
    int64_t timeout_us = _mesh->prepare_sleep(_id) ? wait_us(now) : 0;
    const int64_t busy_end_us = monotonic_us();
    if (busy_start_us != 0) {
      _busy_us.record_us(static_cast<uint64_t>(busy_end_us - busy_start_us));
      _busy_buckets.observe(static_cast<double>(busy_end_us - busy_start_us) / 1e6);
    }
    int r = _ring->submit_and_wait(1, timeout_us);
    busy_start_us = monotonic_us();
    _mesh->woke_up(_id);
    if (r < 0 && r != -EBUSY) {
      log_error("shard %u: io_uring_submit_and_wait: %s", _id, strerror(-r));
    }
    _ring->for_each_cqe([this](io_uring_cqe* cqe) { dispatch(cqe); });
    _buffers->flush();
    now = monotonic_ms();
    for (Component* c : _components) {
      c->after_wait(now);
    }
    const bool tick = now >= _next_tick_ms;
    if (tick) {
      for (Component* c : _components) {
        c->on_tick(now);
      }
      _next_tick_ms = now + kTickMs;
    }
    if (tick || now >= _next_publish_ms) {
      publish_metrics(now, tick);
    }
  }
  // Whatever is still queued (cancel requests) goes out before the ring closes.
  io_uring_submit(_ring->raw());
  const ShardStats st = stats();
  log_info("shard %u: spool: %llu records read back (%llu failed), %llu messages copied forward, "
           "%llu segments deleted, %zu messages live, at most %llu bytes of content in memory",
           _id, static_cast<unsigned long long>(st.loads), static_cast<unsigned long long>(st.load_failures),
           static_cast<unsigned long long>(st.copies), static_cast<unsigned long long>(st.segments_deleted),
           _table.size(), static_cast<unsigned long long>(st.peak_body_bytes));
  log_info("shard %u: loop: %llu iterations, busy per iteration p50 %llu us, p99 %llu us, p99.9 %llu us, "
           "max %llu us", _id, static_cast<unsigned long long>(_busy_us.count()),
           static_cast<unsigned long long>(_busy_us.percentile(50)),
           static_cast<unsigned long long>(_busy_us.percentile(99)),
           static_cast<unsigned long long>(_busy_us.percentile(99.9)),
           static_cast<unsigned long long>(_busy_us.max()));
}

// wait_us: until the next tick, or sooner if a component asks.
int64_t Shard::wait_us(int64_t now_ms) const {
  int64_t timeout_us = std::max<int64_t>(0, _next_tick_ms - now_ms) * 1000;
  for (const Component* c : _components) {
    const int64_t bound = c->wait_bound_us(now_ms);
    if (bound >= 0) {
      timeout_us = std::min(timeout_us, bound);
    }
  }
  return timeout_us;
}

void Shard::dispatch(io_uring_cqe* cqe) {
  const UserData ud = decode(cqe->user_data);
  if (ud.op == Op::kStop) {
    begin_stop();
    return;
  }
  const auto i = static_cast<size_t>(ud.op);
  if (i < _owner.size() && _owner[i] != nullptr) {
    _owner[i]->on_completion(ud, cqe);
  }
  // kWake, kCancel, kNone: nothing to do (a wake-up only ends the wait).
}

void Shard::on_mesh(ShardMessage&& m) {
  if (auto* job = std::get_if<DeliveryJob>(&m)) {
    _outbound->enqueue(std::move(*job));
  } else if (auto* result = std::get_if<DeliveryResult>(&m)) {
    _delivery->on_result(std::move(*result));
  } else {
    AdminCallPtr call = std::move(std::get<AdminCallPtr>(m));
    if (call->reply) {
      if (_admin_api) {
        _admin_api->calls().on_reply(std::move(call));
      }
      return;
    }
    if (call->kind == AdminCall::Kind::kShow) {
      // Answered once the message's content is read back, if it must be.
      auto held = std::make_shared<AdminCallPtr>(std::move(call));
      const std::string id = (*held)->queue_id;
      _delivery->show(id, [this, held](std::string message) {
        (*held)->message = std::move(message);
        reply_admin_call(std::move(*held));
      });
      return;
    }
    answer_admin_call(*call);
    reply_admin_call(std::move(call));
  }
}

void Shard::begin_stop() {
  if (_ctx->stopping) {
    return;
  }
  _ctx->stopping = true;
  for (Component* c : _components) {
    c->begin_stop();
  }
}

bool Shard::drained() const {
  return std::all_of(_components.begin(), _components.end(), [](const Component* c) { return c->drained(); });
}

}  // namespace ringmta
