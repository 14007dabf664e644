// spool/queue_id.h — queue ids: 16 upper-case hex digits, unique across
// shards and restarts, and sorting by arrival time.
//
//   bits 63..24  milliseconds since 2024-01-01 00:00 UTC (40 bits, to 2058)
//   bits 23..16  shard
//   bits 15..0   sequence within the millisecond
//
//   QueueIdGenerator ids(shard);
//   for (const auto& m : report.messages) ids.observe(m.queue_id);
//   std::string id = ids.next(absl::Now());   // "0009A1F3C2D40100"
//
// The generator never goes backwards, even when the clock does: it keeps
// max(last, now). When 65536 ids are taken in one millisecond it borrows the
// next one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace ringmta::spool {

inline constexpr size_t kQueueIdSize = 16;

struct QueueIdParts {
  uint64_t millis = 0;  // since 2024-01-01 UTC
  unsigned shard = 0;
  unsigned sequence = 0;
};

// parse_queue_id splits an id made by QueueIdGenerator; nullopt if malformed.
std::optional<QueueIdParts> parse_queue_id(std::string_view id);

// queue_id_time: when the id was made (its millisecond).
absl::Time queue_id_time(const QueueIdParts& parts);

class QueueIdGenerator {
 public:
  // shard must be below 256 (it has 8 bits).
  explicit QueueIdGenerator(unsigned shard);

  // next returns a new id, above every id this generator made or observed.
  std::string next(absl::Time now);

  // observe raises the floor above id (from recovery). Ids of other shards
  // raise only the millisecond: their shard bits keep them apart.
  void observe(std::string_view id);

 private:
  unsigned _shard;
  int64_t _last_ms = -1;     // the millisecond of the last id
  uint32_t _next_seq = 0;    // next sequence within _last_ms
};

}  // namespace ringmta::spool
