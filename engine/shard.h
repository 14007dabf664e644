// engine/shard.h — one shard: a thread pinned to a CPU that owns, alone and
// without locks, an io_uring ring, a provided-buffer ring, and the
// components that do the work (engine/README.md has the whole picture):
//
//   inbound   (engine/inbound/)   listeners, sessions, TLS, AUTH, limits
//   store     (engine/store/)     segment writer and group commit, segments,
//                                 reading content back, retention
//   delivery  (engine/delivery/)  live messages, jobs to owners, results,
//                                 retries, DSNs, event log
//   outbound  (engine/outbound/)  destinations, pools, client sessions, DNS
//   admin     (engine/admin/)     the HTTP admin API
//   webhooks  (engine/observe/)   the event log POSTed to [[webhook]]s (shard 0)
//   pickup    (engine/inbound/)   maildrop files into the spool (shard 0)
//
//   Shard s(id, config, listen_fds, listen_tls, admin_fds, mesh, stop_fd, max_id, log_fd, services);
//   std::thread t([&] { s.run(); });        // returns after a stop
//
// The shard itself is the reactor (Seastar's model): it keeps the ring,
// the buffer ring, the mesh endpoint, the tick and the stop, and routes
// each completion to the component its user_data's op names (Shard::own).
// The loop is a short list of pollers: drain the mesh, let each component
// start its batched work, submit and wait, dispatch every completion,
// return buffers, run the once-a-second tick. It blocks only when nothing
// is pending, and then at most until the earliest bound a component asks.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/config.h"
#include "engine/delivery/delivery_job.h"
#include "engine/delivery/message_table.h"
#include "engine/inbound/inbound_services.h"
#include "engine/runtime/component.h"
#include "engine/observe/metrics.h"
#include "engine/runtime/latency_histogram.h"
#include "engine/runtime/mesh_outbox.h"
#include "engine/runtime/shard_mesh.h"
#include "engine/store/recovered_spool.h"
#include "engine/store/store_start.h"
#include "spool/recovery.h"

namespace ringmta {

using Mesh = ShardMesh<ShardMessage>;

class AdminApi;
class AdminServer;
class BufferRing;
class ContentLoader;
class Delivery;
class EventLog;
class Inbound;
class Outbound;
class Pickup;
class Retention;
class Ring;
class Segments;
class ShapingTables;
class Signing;
class Store;
class Suppression;
class Feedback;
class WebhookShipper;
struct ShardContext;

// ShardStats: the counters main() and the stop log read, gathered from the
// components.
struct ShardStats {
  uint64_t connections = 0;
  uint64_t messages = 0;
  uint64_t store_failures = 0;
  uint64_t batches = 0;
  uint64_t batch_records = 0;  // records those batches carried
  uint64_t sync_us = 0;        // total time from write submission to sync completion
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  uint64_t loads = 0;           // records read back (deferred, adopted, over the budget)
  uint64_t load_failures = 0;
  uint64_t copies = 0;          // messages copied forward (adoption, compaction)
  uint64_t peak_body_bytes = 0; // most content held in memory at once
  uint64_t segments_deleted = 0;
};

class Shard {
 public:
  // listen_fds: this shard's own SO_REUSEPORT sockets, one per address;
  // listen_tls[i]: listener i speaks implicit TLS. store_start: the
  // highest queue id and segment number recovery saw, so that new ones sort
  // above them. event_log_fd: the shared O_APPEND event log, or -1.
  // admin_fds: this shard's admin API sockets (none: no admin listener).
  Shard(unsigned id, const Config& config, std::vector<int> listen_fds, std::vector<bool> listen_tls,
        std::vector<int> admin_fds, Mesh* mesh, int stop_fd, StoreStart store_start, int event_log_fd, ShardServices* services);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // set_recovered: the segments recovery found (shared by all shards),
  // before run(). Null means there were none.
  void set_recovered(RecoveredSpool* r) { _recovered = r; }
  // adopt takes a recovered message before run(), metadata only: it is
  // read back from its segment through the shard's ring, copied into the
  // shard's own segment, and delivered at once or at its next retry time.
  void adopt(const spool::RecoveredMessage& r);

  // run sets up the ring and the components on the calling thread, serves
  // until the stop eventfd fires and everything in flight is settled, and
  // returns what went wrong, if anything.
  absl::Status run();
  ShardStats stats() const;

 private:
  absl::Status setup();
  void wire();
  void own(std::initializer_list<Op> ops, Component* c);
  void loop();
  void dispatch(io_uring_cqe* cqe);
  void on_mesh(ShardMessage&& m);
  void begin_stop();
  bool drained() const;
  int64_t wait_us(int64_t now_ms) const;
  void publish_metrics(int64_t now_ms, bool tick);
  void on_stored(uint32_t slot, uint32_t gen, bool ok);
  void answer_admin_call(AdminCall& call);
  void reply_admin_call(AdminCallPtr call);

  const unsigned _id;
  const Config& _config;
  std::vector<int> _listen_fds;  // handed to Inbound at setup
  std::vector<bool> _listen_tls;
  std::vector<int> _admin_fds;  // handed to the AdminServer at setup
  Mesh* const _mesh;
  const int _stop_fd;
  const StoreStart _store_start;
  const int _event_log_fd;
  ShardServices* const _services;
  RecoveredSpool* _recovered = nullptr;
  MessageTable _table;              // shared by delivery and the store (message_table.h)
  std::vector<uint64_t> _adopted;   // handles adopted before run()

  // Declared in the order they are built; destroyed in reverse, the ring last.
  // The loop's busy time per iteration (from waking to the next wait),
  // in microseconds: what a stall looks like (a slow handler, a long
  // parse); printed at stop. Two clock reads per iteration.
  LatencyHistogram _busy_us;
  BucketHistogram _busy_buckets{kLoopBounds};  // the same, for /metrics
  // What publish_metrics gathers once a second (the heavier parts).
  std::shared_ptr<const std::vector<SiteDepth>> _site_depths;
  int64_t _oldest_arrival_s = 0;
  int64_t _next_publish_ms = 0;
  std::unique_ptr<Ring> _ring;
  std::unique_ptr<BufferRing> _buffers;
  std::unique_ptr<ShardContext> _ctx;
  std::unique_ptr<MeshOutbox<ShardMessage>> _outbox;
  std::unique_ptr<EventLog> _events;
  std::unique_ptr<ShapingTables> _shaping;
  std::unique_ptr<Suppression> _suppression;  // when suppression is on
  std::unique_ptr<Feedback> _feedback;        // when there are feedback domains
  std::unique_ptr<Segments> _segments;
  std::unique_ptr<Store> _store;
  std::unique_ptr<Signing> _signing;
  std::unique_ptr<ContentLoader> _loader;
  std::unique_ptr<Retention> _retention;
  std::unique_ptr<Outbound> _outbound;
  std::unique_ptr<Delivery> _delivery;
  std::unique_ptr<Inbound> _inbound;
  std::unique_ptr<Pickup> _pickup;           // shard 0, when the maildrop pickup is on
  std::unique_ptr<AdminApi> _admin_api;     // with _admin, when there are admin sockets
  std::unique_ptr<AdminServer> _admin;
  std::unique_ptr<WebhookShipper> _webhooks;  // shard 0, when the config has [[webhook]]s
  std::array<Component*, static_cast<size_t>(Op::kCount)> _owner{};  // by op
  std::vector<Component*> _components;  // poll and tick order
  int64_t _next_tick_ms = 0;
};

}  // namespace ringmta
