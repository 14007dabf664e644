// engine/delivery/delivery.h — delivery, origin side. The shard that
// spooled a message owns it until every recipient is final: it groups the
// recipients by destination, hands one DeliveryJob per destination to the
// shard that owns that destination (through the mesh, also when that is
// itself, so no call here ever re-enters), and applies the results: state
// records into its spool, one event-log line per recipient, retries with
// exponential backoff, and a DSN to the sender for what bounced
// (bounces.cc).
//
// Between attempts a message keeps only its metadata; its content comes
// back from the spool for the next one (engine/store/content_loader.h).
// When it is final its segment stops counting it (engine/store/retention.h).
//
// Where a deferred message's retry time lives: in its LiveMessage's
// RcptState::next_retry (per recipient, written to the spool as a state
// record by on_result), and as an entry in `_retries` (retry_queue.h); at
// each tick run_retries pops what is due and attempt() reads the message
// back (ContentLoader) and dispatches it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/delivery/delivery_job.h"
#include "engine/delivery/event_log.h"
#include "engine/delivery/message_table.h"
#include "engine/delivery/retry_queue.h"
#include "engine/outbound/egress.h"
#include "engine/outbound/shaping_tables.h"
#include "engine/observe/metrics.h"
#include "engine/runtime/component.h"
#include "engine/runtime/mesh_outbox.h"
#include "engine/shard_context.h"
#include "engine/store/content_loader.h"
#include "engine/store/retention.h"
#include "engine/store/store.h"
#include "engine/suppression/feedback.h"
#include "engine/suppression/suppression.h"
#include "spool/recovery.h"

namespace ringmta {

struct DeliveryStats {
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  std::array<std::array<uint64_t, kBounceClassCount>, kOutcomes> by_class{};  // [outcome][class]
  BucketHistogram latency{kDeliveryBounds};  // arrival to a final outcome
};

// live_from_recovered: the metadata of a message recovery found, as a live
// message (its content stays in the spool until it is read back).
// Its recipients' domains are interned in `domains` (the table's).
std::unique_ptr<LiveMessage> live_from_recovered(const spool::RecoveredMessage& r, DomainIds& domains);

class Delivery : public Component {
 public:
  Delivery(const ShardContext& ctx, MessageTable& table, Store& store, ContentLoader& loader,
           Retention& retention, MeshOutbox<ShardMessage>& outbox, EventLog& events, const ShapingTables& shaping,
           Suppression* suppression, Feedback* feedback);

  // adopt schedules a recovered message already in the table: read back
  // and delivered at once or at its next retry time, and copied into this
  // shard's own segment (engine/store/recovered_spool.h).
  void adopt(uint64_t handle);
  // deliver takes a message that is durable at ref (Store's durable hook).
  void deliver(std::unique_ptr<proto::CompletedMessage> m, SpoolRef ref, bool generated);
  // on_result applies the outcomes of one job (from the mesh).
  void on_result(DeliveryResult&& r);
  // on_loaded / on_load_failed: the ContentLoader's hooks.
  void on_loaded(uint64_t handle);
  void on_load_failed(uint64_t handle);

  const DeliveryStats& stats() const { return _stats; }
  size_t waiting_retries() const { return _retries.size(); }

  // The admin API (delivery_admin.cc). domain_rows: what waits on this
  // origin shard (not in flight) by recipient domain; flush: deferred
  // recipients (of `domain`, or all) are tried now, returns how many;
  // describe: one message as a JSON object, "" when this shard does not
  // have it.
  std::vector<DomainRow> domain_rows(std::string_view domain) const;
  size_t flush(std::string_view domain);
  std::string describe(std::string_view queue_id) const;
  // show: describe, with the whole envelope: a message whose content is
  // not in memory is read back first. done gets "" when it is not here.
  void show(std::string_view queue_id, std::function<void(std::string)> done);
  // admin_bounce takes the messages b selects (read back from the spool
  // first when only their metadata is in memory, and after the attempt in
  // flight when there is one) and bounces their recipients; returns how
  // many messages it took (by sender or campaign: how many it checks).
  size_t admin_bounce(const AdminBounce& b);
  void on_tick(int64_t now_ms) override;

 private:
  void attempt(uint64_t handle);
  void dispatch_now(uint64_t handle);
  void dispatch(uint64_t handle);
  void record_outcome(LiveMessage& lm, RcptOutcome& o, const DeliveryResult& r, absl::Time now, bool expired);
  void finish_attempt(uint64_t handle);
  void note_error(std::string_view rcpt, std::string_view text, absl::Time now);
  bool apply_admin_bounce(uint64_t handle);
  void answer_shows(uint64_t handle);
  void finalize(uint64_t handle);
  void schedule_retry(uint64_t handle, const LiveMessage& lm);
  uint64_t send_dsn(LiveMessage& lm);
  // pool_of: the egress pool a message goes out through, or null.
  const EgressPool* pool_of(const proto::Envelope& e) const;

  const ShardContext& _ctx;
  MessageTable& _table;
  Store& _store;
  ContentLoader& _loader;
  Retention& _retention;
  MeshOutbox<ShardMessage>& _outbox;
  EventLog& _events;
  const ShapingTables& _shaping;
  Suppression* const _suppression;  // null: suppression is off
  Feedback* const _feedback;        // null: no feedback domains
  RetryQueue _retries;
  PoolCursor _pools;  // this shard's place in each pool's round robin
  DeliveryStats _stats;
  // The last deferral or bounce text per recipient domain, for the admin
  // API's queue rows; bounded (cleared when it grows past kMaxLastErrors).
  struct LastError {
    std::string text;
    absl::Time time;
  };
  absl::flat_hash_map<std::string, LastError> _last_errors;
  // Messages an administrative bounce took, waiting for their content or
  // for the attempt in flight (delivery_admin.cc).
  absl::flat_hash_map<uint64_t, std::vector<std::shared_ptr<const AdminBounce>>> _admin_bounces;
  // `ringmta-ctl show`s waiting for a message's content (delivery_admin.cc).
  std::vector<std::pair<uint64_t, std::function<void(std::string)>>> _shows;
};

}  // namespace ringmta
