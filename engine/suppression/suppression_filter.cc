// engine/suppression/suppression_filter.cc — the blocked Bloom filter
// (suppression_filter.h).
#include "engine/suppression/suppression_filter.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace ringmta {
namespace {

// The filter lives in memory only (rebuilt from the store at each start),
// so the process-seeded absl hash is fine; one 64-bit hash gives the block
// and, remixed, the bits in it.
uint64_t hash_of(std::string_view key) { return absl::HashOf(key); }

}  // namespace

SuppressionFilter::SuppressionFilter(uint64_t capacity)
    : _capacity(std::max<uint64_t>(capacity, 1024)),
      // 10 bits per key, in whole 512-bit blocks.
      _blocks((_capacity * 10 + 511) / 512),
      _words(new std::atomic<uint64_t>[_blocks * 8]) {
  for (uint64_t i = 0; i < _blocks * 8; ++i) {
    _words[i].store(0, std::memory_order_relaxed);
  }
}

void SuppressionFilter::add(std::string_view key) {
  uint64_t h = hash_of(key);
  const uint64_t block = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * _blocks) >> 64);
  std::atomic<uint64_t>* w = &_words[block * 8];
  for (int i = 0; i < kBitsPerKey; ++i) {
    h = h * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    const unsigned bit = static_cast<unsigned>(h >> 55);  // 0..511
    w[bit >> 6].fetch_or(uint64_t{1} << (bit & 63), std::memory_order_relaxed);
  }
}

bool SuppressionFilter::may_contain(std::string_view key) const {
  uint64_t h = hash_of(key);
  const uint64_t block = static_cast<uint64_t>((static_cast<unsigned __int128>(h) * _blocks) >> 64);
  const std::atomic<uint64_t>* w = &_words[block * 8];
  for (int i = 0; i < kBitsPerKey; ++i) {
    h = h * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    const unsigned bit = static_cast<unsigned>(h >> 55);
    if (!(w[bit >> 6].load(std::memory_order_acquire) & (uint64_t{1} << (bit & 63)))) {
      return false;
    }
  }
  return true;
}

}  // namespace ringmta
