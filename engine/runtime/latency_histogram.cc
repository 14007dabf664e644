// engine/runtime/latency_histogram.cc — see latency_histogram.h.
#include "engine/runtime/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ringmta {

// index_of: values below 2*kSub are their own index; above, the value is
// shifted right until it has kSubBits+1 significant bits, and the shift
// selects a band of kSub buckets (the mantissa's top bit is always set, so
// bands never overlap).
int LatencyHistogram::index_of(uint64_t v) {
  const int msb = 63 - std::countl_zero(v | 1);
  const int shift = std::max(0, msb - kSubBits);
  return shift * kSub + static_cast<int>(v >> shift);
}

uint64_t LatencyHistogram::upper_of(int index) {
  if (index < 2 * kSub) {
    return static_cast<uint64_t>(index);
  }
  const int shift = index / kSub - 1;
  const uint64_t mantissa = static_cast<uint64_t>(index - shift * kSub);
  return ((mantissa + 1) << shift) - 1;
}

void LatencyHistogram::record_us(uint64_t us) {
  us = std::min(us, kMaxUs);
  ++_buckets[static_cast<size_t>(index_of(us))];
  ++_count;
  _sum += us;
  _max = std::max(_max, us);
  _min = std::min(_min, us);
}

uint64_t LatencyHistogram::percentile(double pct) const {
  if (_count == 0) {
    return 0;
  }
  // The rank of the value wanted, 1-based: p99 of 1000 values is the 990th.
  auto rank = static_cast<uint64_t>(std::ceil(pct / 100.0 * static_cast<double>(_count)));
  rank = std::clamp<uint64_t>(rank, 1, _count);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += _buckets[static_cast<size_t>(i)];
    if (seen >= rank) {
      return std::min(upper_of(i), _max);
    }
  }
  return _max;
}

}  // namespace ringmta
