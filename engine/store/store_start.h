// engine/store/store_start.h — what recovery saw that a shard's new spool
// writer must stay above (Store::open).
#pragma once

#include <cstdint>
#include <string>

namespace ringmta {

struct StoreStart {
  std::string max_queue_id;      // new queue ids sort above it
  uint64_t highest_segment = 0;  // in this shard's directory; new segments number above it
};

}  // namespace ringmta
