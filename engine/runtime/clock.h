// engine/runtime/clock.h — the monotonic clock every shard component times
// with (timeouts, batches, ticks); never the wall clock, which can jump.
#pragma once

#include <cstdint>

namespace ringmta {

// monotonic_ms / monotonic_us: CLOCK_MONOTONIC in milliseconds / microseconds.
int64_t monotonic_ms();
int64_t monotonic_us();

}  // namespace ringmta
