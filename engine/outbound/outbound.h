// engine/outbound/outbound.h — delivery, owner side, in two stages. Routing:
// the destinations this shard owns (by hash of the nexthop key) are routed
// — a fixed host, or MX through the shard's resolver — to a site, and each
// job is forwarded to the shard that owns its (egress source, site) queue.
// Sending: that shard queues it on the SiteQueue, opens connections within
// the site's limits (connection_limit, max_connection_rate,
// max_message_rate, max_deliveries_per_connection,
// max_recipients_per_message: shaping.h), and drives the outbound SMTP
// connections (connect, multishot recv, one send in flight, STARTTLS,
// timeouts). Every job ends in exactly one DeliveryResult sent back to its
// origin shard (DeliveryJob::answer, which ends the job's loan).
//
//   outbound.enqueue(std::move(job));   // from the mesh, either stage
//
// Files: outbound_route.cc (routing), outbound.cc (site queues and their
// limits), outbound_backoff.cc (backoff rules' actions),
// outbound_connection.cc (a connection's life), outbound_transaction.cc
// (what runs over it), outbound_tls.cc (STARTTLS).
#pragma once

#include <linux/time_types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/delivery/delivery_job.h"
#include "engine/delivery/event_log.h"
#include "engine/dns/dns_resolver.h"
#include "engine/dns/mx_route.h"
#include "engine/outbound/backoff_rules.h"
#include "engine/outbound/site_queue.h"
#include "engine/outbound/shaping_tables.h"
#include "engine/outbound/site_route.h"
#include "engine/observe/metrics.h"
#include "engine/runtime/component.h"
#include "engine/runtime/mesh_outbox.h"
#include "engine/runtime/slot_pool.h"
#include "engine/shard_context.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

class Outbound : public Component {
 public:
  Outbound(const ShardContext& ctx, MeshOutbox<ShardMessage>& outbox, EventLog& events, ShapingTables& tables);
  ~Outbound();
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // enqueue takes a job from the mesh: unrouted, to route it; routed, to
  // queue it on its site.
  void enqueue(DeliveryJob&& job);

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  void poll() override;
  int64_t wait_bound_us(int64_t now_ms) const override;
  void on_tick(int64_t now_ms) override;
  bool drained() const override { return _conns.in_use() == 0; }

  // For /metrics: connections opened so far, open now, and the size of
  // each site queue this shard owns.
  uint64_t connects() const { return _connects; }
  size_t open_connections() const { return _conns.in_use(); }
  std::vector<SiteDepth> site_depths() const;

  // The admin API (outbound_admin.cc). set_blocks: the operator's
  // suspensions and holds in force, the whole list as of `version` (an
  // older list than the one in force is ignored); mail queued for a newly
  // blocked domain goes back to its origin as held.
  void set_blocks(std::vector<AdminBlock> blocks, uint64_t version);
  // site_rows: this shard's site queues (those serving `domain`, or all
  // when it is empty).
  std::vector<SiteRow> site_rows(std::string_view domain) const;

 private:
  const Shaping& shaping() const { return _tables.current(); }
  void take_reload();

  // A nexthop this shard routes: its answer, kept kRouteKeepMs, and the
  // jobs waiting for it.
  struct RouteEntry {
    Nexthop nexthop;
    std::deque<DeliveryJob> waiting;
    bool resolving = false;
    int64_t resolved_ms = -1;  // -1: never
    std::shared_ptr<const SiteRoute> route;  // null when routing failed
    Outcome fail_outcome = Outcome::kDeferred;
    int fail_code = 0;
    std::string fail_status;
    std::string fail_error;
    // defer: routing failed for a reason that is not the recipient's (the
    // configuration's, or the moment's): 451 with `status`, never a bounce.
    void defer(std::string_view status, std::string error) {
      route.reset();
      fail_outcome = Outcome::kDeferred;
      fail_code = 451;
      fail_status = std::string(status);
      fail_error = std::move(error);
    }
  };

  // Routing (outbound_route.cc).
  void route(DeliveryJob&& job);
  void resolve(const std::string& key, RouteEntry& r);
  void on_resolved(const std::string& key, const MxRoute& route);
  void on_host_resolved(const std::string& key, const MxRoute& route, uint16_t port);
  void release_waiting(RouteEntry& r);
  void forward(DeliveryJob&& job, const RouteEntry& r);
  // resolver: the shard's resolver, made on first use; null when it
  // cannot be made (no memory, no sockets): the caller defers.
  Resolver* resolver(std::string* error);

  // Site queues and their limits (outbound.cc).
  SiteQueue& site_queue(const DeliveryJob& job);
  void queue(DeliveryJob&& job);
  void pump(SiteQueue& q);
  bool may_start(SiteQueue& q, int64_t now_ns);
  void wake_at(SiteQueue& q, int64_t at_ns);
  void fail_queue(SiteQueue& q, Outcome outcome, int code, const std::string& status, const std::string& text);
  void complete(SiteQueue& q, const Chunk& chunk, std::vector<RcptOutcome>&& outcomes);
  void maybe_forget(const std::string& key);

  // Automatic backoff (outbound_backoff.cc).
  bool on_reply(SiteQueue& q, const proto::Reply& reply, const DeliveryJob* job);
  void act(SiteQueue& q, const BackoffRule& rule, const std::string& line);
  bool suspended(const SiteQueue& q) const;
  bool tenant_suspended(const SiteQueue& q, const DeliveryJob& job) const;
  void hold_queue(SiteQueue& q, const std::string* tenant = nullptr);
  const AdminBlock* blocked(const DeliveryJob& job) const;
  void hold_blocked(SiteQueue& q);
  void refresh_limits(SiteQueue& q);
  void end_actions(SiteQueue& q, int64_t now_ms);

  // A connection's life (outbound_connection.cc; drive, start_job and
  // finish_job in outbound_transaction.cc).
  void open_conn(SiteQueue& q);
  void connect_next(uint32_t slot);
  void on_connect(uint32_t slot, int res);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  void on_send(uint32_t slot, int res);
  void arm_recv(uint32_t slot);
  void on_data(uint32_t slot, std::string_view data);
  void drive(uint32_t slot);
  void start_job(uint32_t slot);
  void finish_job(uint32_t slot, proto::TransactionResult&& t);
  void flush(uint32_t slot);
  void shut(uint32_t slot);
  void release(uint32_t slot);
  bool try_next_target(uint32_t slot, SiteQueue& q);

  // STARTTLS (outbound_tls.cc).
  bool start_tls(uint32_t slot);
  TlsContext* tls_client();

  const ShardContext& _ctx;
  MeshOutbox<ShardMessage>& _outbox;
  EventLog& _events;
  ShapingTables& _tables;
  proto::ClientConfig _client_config;
  SiteLimits _base_limits;  // the delivery flags' defaults
  absl::flat_hash_map<std::string, RouteEntry> _routes;
  absl::flat_hash_map<std::string, std::unique_ptr<SiteQueue>> _sites;
  uint64_t _connects = 0;
  std::vector<AdminBlock> _blocks;  // the operator's, in force (set_blocks)
  uint64_t _blocks_version = 0;
  // Sites a rate held back, by when to pump them again (earliest first;
  // an entry whose site has since moved on is skipped).
  using Wake = std::pair<int64_t, std::string>;
  std::priority_queue<Wake, std::vector<Wake>, std::greater<>> _wakes;
  SlotPool<OutboundConn> _conns;  // the kernel holds pointers into them
  __kernel_timespec _connect_timeout{};
  std::unique_ptr<Resolver> _resolver;  // made on the first MX lookup
  std::unique_ptr<TlsContext> _tls_client;
  bool _tls_client_failed = false;
};

}  // namespace ringmta
