// engine/suppression/suppression_filter.h — a Bloom filter in front of the
// suppression store: most recipients are not suppressed, and for them the
// filter answers "certainly not" from one cache line, instead of a walk down
// LMDB's B+tree (at 10 M entries the tree is ~1 GB: two or three pages of
// each walk are cold, ~2-3 µs on this machine; see README "Suppression").
// A "maybe" goes to the store, which has the last word: the filter can make
// a lookup slower, never wrong.
//
//   SuppressionFilter f(capacity);   // sized for `capacity` keys at ~1% false positives
//   f.add(key);                      // the store's writer only, before it commits
//   if (!f.may_contain(key)) { not suppressed }   // any thread, no lock
//
// Blocked layout (one 512-bit block per key, 7 bits in it, the way RocksDB
// and Impala build theirs): a query touches one cache line. Bits are only
// ever set — a removed entry's bits stay, which costs its address a store
// lookup, not a wrong answer. Words are atomics: the writer sets bits with
// fetch_or while shards read them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ringmta {

class SuppressionFilter {
 public:
  explicit SuppressionFilter(uint64_t capacity);
  void add(std::string_view key);
  bool may_contain(std::string_view key) const;
  uint64_t capacity() const { return _capacity; }
  uint64_t bytes() const { return _blocks * 64; }

 private:
  static constexpr int kBitsPerKey = 7;  // set in one block: ~1% false positives at 10 bits/key
  uint64_t _capacity;
  uint64_t _blocks;
  std::unique_ptr<std::atomic<uint64_t>[]> _words;  // 8 per block
};

}  // namespace ringmta
