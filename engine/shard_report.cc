// engine/shard_report.cc — what a shard tells the outside about itself:
// its part of an admin API call (admin_call.h), its metrics snapshot for
// /metrics (observe/metrics.h), and its counters for the stop log (shard.h).
#include "engine/admin/admin_api.h"
#include "engine/delivery/delivery.h"
#include "engine/dkim/signing.h"
#include "engine/inbound/inbound.h"
#include "engine/outbound/outbound.h"
#include "engine/shard.h"
#include "engine/store/content_loader.h"
#include "engine/store/retention.h"
#include "engine/store/segments.h"
#include "engine/store/store.h"
#include "engine/suppression/feedback.h"
#include "engine/suppression/suppression.h"
#include "spool/queue_id.h"

namespace ringmta {

void Shard::reply_admin_call(AdminCallPtr call) {
  const unsigned to = call->from;
  call->reply = true;
  _outbox->send(to, ShardMessage(std::move(call)));
}

// answer_admin_call: this shard's part of an admin API call (admin_call.h).
void Shard::answer_admin_call(AdminCall& call) {
  switch (call.kind) {
    case AdminCall::Kind::kQueues:
      call.sites = _outbound->site_rows(call.domain);
      call.domains = _delivery->domain_rows(call.domain);
      return;
    case AdminCall::Kind::kFlush:
      call.count = _delivery->flush(call.domain);
      return;
    case AdminCall::Kind::kSetBlocks:
      _outbound->set_blocks(call.blocks, call.blocks_version);
      return;
    case AdminCall::Kind::kShow:  // on_mesh: Delivery::show
      return;
    case AdminCall::Kind::kBounce:
      call.count = _delivery->admin_bounce(call.bounce);
      return;
  }
}

// publish_metrics hands /metrics a copy of this shard's counters (every
// MetricsBoard::kPublishMs); the site depths and the oldest message, which
// cost a walk over every queue and message, are redone only at the tick.
void Shard::publish_metrics(int64_t now_ms, bool tick) {
  _next_publish_ms = now_ms + MetricsBoard::kPublishMs;
  if (_services->metrics == nullptr) {
    return;
  }
  if (tick || !_site_depths) {
    _site_depths = std::make_shared<const std::vector<SiteDepth>>(_outbound->site_depths());
    std::string_view oldest;
    _table.for_each([&](uint64_t, const LiveMessage& lm) {
      if (oldest.empty() || lm.id.prefix() < oldest) {
        oldest = lm.id.prefix();
      }
    });
    const auto parts = spool::parse_queue_id(oldest);
    _oldest_arrival_s = parts ? absl::ToUnixSeconds(spool::queue_id_time(*parts)) : 0;
  }
  auto snap = std::make_shared<ShardSnapshot>();
  snap->shard = _id;
  snap->messages_received = _store->stats().messages;
  snap->connections_in_total = _inbound->connections();
  snap->connections_out_total = _outbound->connects();
  snap->connections_in = static_cast<int64_t>(_inbound->open_connections());
  snap->connections_out = static_cast<int64_t>(_outbound->open_connections());
  snap->memory_content_bytes = _loader->body_bytes();
  snap->deferred_messages = _delivery->waiting_retries();
  snap->oldest_arrival_s = _oldest_arrival_s;
  snap->deliveries = _delivery->stats().by_class;
  if (_suppression) {
    const SuppressionStats& ss = _suppression->stats();
    snap->suppression_refused = ss.refused;
    snap->suppression_dropped = ss.dropped;
    snap->suppression_added = ss.added;
    snap->suppression_add_failures = ss.add_failures;
  }
  if (_feedback) {
    const FeedbackStats& fs = _feedback->stats();
    snap->feedback = {fs.bounces, fs.delays, fs.complaints, fs.unattributed, fs.dropped};
  }
  snap->spool_sync = _store->stats().sync;
  snap->delivery_latency = _delivery->stats().latency;
  snap->loop_iteration = _busy_buckets;
  snap->sites = _site_depths;
  _services->metrics->publish(_id, std::move(snap));
}

ShardStats Shard::stats() const {
  ShardStats s;
  if (_inbound) {
    s.connections = _inbound->connections();
  }
  if (_store) {
    const StoreStats& st = _store->stats();
    s.messages = st.messages;
    s.store_failures = st.store_failures;
    s.batches = st.batches;
    s.batch_records = st.batch_records;
    s.sync_us = st.sync_us;
  }
  if (_delivery) {
    s.delivered = _delivery->stats().delivered;
    s.deferred = _delivery->stats().deferred;
    s.bounced = _delivery->stats().bounced;
  }
  if (_loader) {
    s.loads = _loader->stats().loads;
    s.load_failures = _loader->stats().load_failures;
    s.peak_body_bytes = _loader->stats().peak_body_bytes;
  }
  if (_retention) {
    s.copies = _retention->copies();
  }
  if (_segments) {
    s.segments_deleted = _segments->deleted();
  }
  return s;
}

}  // namespace ringmta
