// bench/smtpblast_clock.h — the one clock smtpblast measures with.
#pragma once

#include <time.h>

#include <cstdint>

namespace ringmta::blast {

// mono_ns: CLOCK_MONOTONIC in nanoseconds (vDSO: no system call).
inline int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// unix_s: the wall clock, for "last at T" lines that other tools line up.
inline double unix_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace ringmta::blast
