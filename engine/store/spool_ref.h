// engine/store/spool_ref.h — where a message record lies in the spool, as
// a live message remembers it (16 bytes: it is kept for every deferred
// message, so it stays small).
#pragma once

#include <cstdint>

namespace ringmta {

// SpoolRef is where a message record lies: this shard's segment slot
// (Segments), or with kRecovered an index into RecoveredSpool's table (a
// segment that recovery found at start). size 0: no record.
struct SpoolRef {
  static constexpr uint32_t kRecovered = 1u << 31;
  uint64_t offset = 0;
  uint32_t size = 0;  // the whole record: header + payload (< 1 GiB + 12)
  uint32_t seg = 0;

  bool valid() const { return size != 0; }
  bool recovered() const { return (seg & kRecovered) != 0; }
  uint32_t index() const { return seg & ~kRecovered; }
};

}  // namespace ringmta
