// engine/shard_context.h — what every component of a shard needs and
// nothing more: which shard, the settings, its ring, its receive buffers,
// and whether the daemon is stopping. The shard owns it and hands each
// component a const reference (the ring and buffers stay usable through
// it); only the shard changes `stopping`.
#pragma once

#include "engine/config/config.h"
#include "engine/runtime/buffer_ring.h"
#include "engine/runtime/ring.h"

namespace ringmta {

struct ShardContext {
  unsigned id = 0;
  const Config& config;
  Ring& ring;
  BufferRing& buffers;
  bool stopping = false;
};

}  // namespace ringmta
