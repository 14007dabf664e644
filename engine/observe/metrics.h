// engine/observe/metrics.h — what each shard counts, and how a scrape reads
// every shard's counts without a lock on any hot path.
//
//   MetricsBoard board(shards);                       // main owns it
//   shard: board.publish(id, snapshot)                // every kPublishMs
//   admin: auto snaps = board.read();                 // any shard's thread
//          std::string text = render_prometheus(snaps, extra);
//
// Each shard keeps its counters as plain fields of its own components
// (one writer, no atomics, no shared cache lines) and copies them into an
// immutable ShardSnapshot four times a second, which it swaps into its
// slot of the board under a mutex taken only for that swap and by a
// scrape copying the pointer. So the hot path pays nothing, a scrape never
// waits for a shard's loop, and what a scrape sees is at most
// kPublishMs old (Prometheus' own scrape intervals are seconds).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/delivery/bounce_class.h"

namespace ringmta {

// BucketHistogram: a Prometheus histogram with fixed upper bounds, in
// seconds. Recording is a short scan of at most 16 bounds.
class BucketHistogram {
 public:
  explicit BucketHistogram(std::span<const double> bounds) : _bounds(bounds), _counts(bounds.size() + 1, 0) {}
  void observe(double seconds);
  void add(const BucketHistogram& o);
  std::span<const double> bounds() const { return _bounds; }
  // counts()[i]: values in bucket i (not cumulative); the last one is +Inf.
  const std::vector<uint64_t>& counts() const { return _counts; }
  double sum() const { return _sum; }

 private:
  std::span<const double> _bounds;
  std::vector<uint64_t> _counts;
  double _sum = 0;
};

// The bounds each histogram uses: a spool sync (an RWF_DSYNC write) is
// 50 us on NVMe to tens of ms on a busy disk; a delivery takes from a
// second to the queue lifetime; a loop iteration should stay under 1 ms.
inline constexpr double kSyncBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,  0.05,    0.1,    0.25,  0.5,    1};
inline constexpr double kDeliveryBounds[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
inline constexpr double kLoopBounds[] = {0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                         0.0025,  0.005,   0.01,   0.05,    0.1,    1};

inline constexpr size_t kOutcomes = 3;  // delivered, deferred, bounced (Outcome's order)

// SiteDepth: one (source, site) queue's size on the shard that owns it.
struct SiteDepth {
  std::string site;
  std::string source;
  uint64_t messages = 0;
};

// ShardSnapshot: one shard's numbers at one moment.
struct ShardSnapshot {
  unsigned shard = 0;
  uint64_t messages_received = 0;
  uint64_t connections_in_total = 0;
  uint64_t connections_out_total = 0;
  int64_t connections_in = 0;
  int64_t connections_out = 0;
  uint64_t memory_content_bytes = 0;
  uint64_t deferred_messages = 0;  // waiting for a retry on this (origin) shard
  int64_t oldest_arrival_s = 0;    // unix seconds of its oldest live message; 0: none
  std::array<std::array<uint64_t, kBounceClassCount>, kOutcomes> deliveries{};  // [outcome][class]
  // The suppression list (engine/suppression/): recipients refused at RCPT
  // or injection, dropped at dispatch, entries made on their own; and what
  // came back to the feedback domains, by kind (kFeedbackKinds).
  uint64_t suppression_refused = 0;
  uint64_t suppression_dropped = 0;
  uint64_t suppression_added = 0;
  uint64_t suppression_add_failures = 0;
  std::array<uint64_t, 5> feedback{};
  BucketHistogram spool_sync{kSyncBounds};
  BucketHistogram delivery_latency{kDeliveryBounds};
  BucketHistogram loop_iteration{kLoopBounds};
  // Rebuilt once a second (the site queues can number tens of thousands).
  std::shared_ptr<const std::vector<SiteDepth>> sites;
};

class MetricsBoard {
 public:
  static constexpr int64_t kPublishMs = 250;

  explicit MetricsBoard(unsigned shards) : _slots(shards) {}
  void publish(unsigned shard, std::shared_ptr<const ShardSnapshot> s);
  // read: the latest snapshot of every shard that has published one.
  std::vector<std::shared_ptr<const ShardSnapshot>> read() const;

 private:
  struct Slot {
    mutable std::mutex mu;
    std::shared_ptr<const ShardSnapshot> snap;
  };
  std::vector<Slot> _slots;
};

// The kinds of ShardSnapshot::feedback, in order (the label values).
inline constexpr const char* kFeedbackKinds[5] = {"async_bounce", "async_delayed", "complaint", "unattributed",
                                                  "dropped"};

// MetricsExtra: what the scrape adds that no shard counts.
struct MetricsExtra {
  uint64_t spool_bytes = 0;
  int64_t suppression_entries = -1;  // addresses + domains on the list; -1: suppression off
  int64_t now_s = 0;         // for ringmta_queue_oldest_seconds
  size_t top_sites = 50;     // site series beyond these go to site="other"
};

// render_prometheus: the text exposition format 0.0.4 of the shards'
// snapshots summed.
std::string render_prometheus(const std::vector<std::shared_ptr<const ShardSnapshot>>& snaps,
                              const MetricsExtra& extra);

}  // namespace ringmta
