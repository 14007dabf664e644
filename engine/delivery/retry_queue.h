// engine/delivery/retry_queue.h — deferred messages by their next retry
// time: a min-heap of (due, handle), 24 bytes per waiting message.
//
//   q.push(due, handle);
//   q.pop_due(absl::Now(), [](uint64_t handle) { ... });
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace ringmta {

class RetryQueue {
 public:
  void push(absl::Time due, uint64_t handle) {
    _heap.emplace_back(due, handle);
    std::push_heap(_heap.begin(), _heap.end(), later);
  }
  // pop_due calls f(handle) for every entry due at `now`, earliest first.
  // f may push.
  template <typename F>
  void pop_due(absl::Time now, F&& f) {
    while (!_heap.empty() && _heap.front().first <= now) {
      std::pop_heap(_heap.begin(), _heap.end(), later);
      const uint64_t handle = _heap.back().second;
      _heap.pop_back();
      f(handle);
    }
  }
  size_t size() const { return _heap.size(); }

 private:
  using Entry = std::pair<absl::Time, uint64_t>;
  static bool later(const Entry& a, const Entry& b) { return a.first > b.first; }
  std::vector<Entry> _heap;
};

}  // namespace ringmta
