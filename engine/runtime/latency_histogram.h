// engine/runtime/latency_histogram.h — a small HDR-style latency histogram:
// log-linear buckets from 1 µs to 60 s with under 1% relative error, a
// fixed array (recording never allocates), constant-time record().
//
//   LatencyHistogram h;
//   h.record_us(137);
//   uint64_t p99 = h.percentile(99.0);   // µs, upper bound of its bucket
//
// Values below 256 µs are exact; above, each power of two is split into 128
// buckets, so a bucket is at most 1/128 (0.8%) of its value wide. Used by
// smtpblast (reply latencies) and by each shard (its loop's busy time).
#pragma once

#include <array>
#include <cstdint>

namespace ringmta {

class LatencyHistogram {
 public:
  static constexpr uint64_t kMaxUs = 60'000'000;  // larger values count as 60 s

  // record_us adds one value, in microseconds.
  void record_us(uint64_t us);
  // percentile returns the smallest recorded bucket's upper bound at or
  // below which `pct` percent of values lie (capped at max()); 0 if empty.
  uint64_t percentile(double pct) const;
  uint64_t count() const { return _count; }
  uint64_t max() const { return _max; }
  uint64_t min() const { return _count == 0 ? 0 : _min; }
  double mean() const { return _count == 0 ? 0.0 : static_cast<double>(_sum) / _count; }

 private:
  static constexpr int kSubBits = 7;  // 128 buckets per power of two
  static constexpr int kSub = 1 << kSubBits;
  // 60e6 < 2^26: shifts 0..18 with 128 buckets each, plus the exact 0..255.
  static constexpr int kBuckets = 2 * kSub + 19 * kSub;

  static int index_of(uint64_t v);
  static uint64_t upper_of(int index);

  std::array<uint64_t, kBuckets> _buckets{};
  uint64_t _count = 0;
  uint64_t _sum = 0;
  uint64_t _max = 0;
  uint64_t _min = ~uint64_t{0};
};

}  // namespace ringmta
