// engine/runtime/spsc_queue.h — a bounded single-producer single-consumer queue for
// handing work between two shards without locks.
//
//   SpscQueue<Job> q(1024);
//   producer:  if (!q.try_push(std::move(job))) { keep it for the next round; }
//              q.publish();                       // once per loop iteration
//   consumer:  while (auto job = q.try_pop()) { ... }
//
// The producer batches: try_push only writes the slot and a producer-local
// tail; publish() makes the whole batch visible with one release store, so
// the consumer's cache line is touched once per batch, not once per item
// (Seastar's smp queues do the same). Head and tail live on separate cache
// lines so the two threads do not false-share.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace ringmta {

template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(size_t capacity)
      : _mask(std::bit_ceil(capacity < 2 ? size_t{2} : capacity) - 1),
        _slots(std::make_unique<std::optional<T>[]>(_mask + 1)) {}
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  size_t capacity() const { return _mask + 1; }

  // try_push stores item if there is room; invisible until publish().
  bool try_push(T&& item) {
    if (_local_tail - _cached_head > _mask) {
      _cached_head = _head.load(std::memory_order_acquire);
      if (_local_tail - _cached_head > _mask) {
        return false;
      }
    }
    _slots[_local_tail & _mask].emplace(std::move(item));
    ++_local_tail;
    return true;
  }

  // publish makes every pushed item visible to the consumer. Returns true
  // if anything new was published.
  bool publish() {
    if (_local_tail == _published) {
      return false;
    }
    _published = _local_tail;
    _tail.store(_local_tail, std::memory_order_release);
    return true;
  }

  // try_pop takes the oldest published item, if any.
  std::optional<T> try_pop() {
    if (_local_head == _cached_tail) {
      _cached_tail = _tail.load(std::memory_order_acquire);
      if (_local_head == _cached_tail) {
        return std::nullopt;
      }
    }
    std::optional<T>& slot = _slots[_local_head & _mask];
    std::optional<T> out(std::move(*slot));
    slot.reset();
    ++_local_head;
    // Release each slot as it is consumed; a batched release would save
    // little and delay the producer.
    _head.store(_local_head, std::memory_order_release);
    return out;
  }

  // empty is exact for the consumer, a hint for anyone else.
  bool empty() const { return _head.load(std::memory_order_acquire) == _tail.load(std::memory_order_acquire); }

 private:
  const size_t _mask;
  std::unique_ptr<std::optional<T>[]> _slots;
  // Producer side.
  alignas(64) std::atomic<size_t> _tail{0};
  size_t _local_tail = 0;
  size_t _published = 0;
  size_t _cached_head = 0;
  // Consumer side.
  alignas(64) std::atomic<size_t> _head{0};
  size_t _local_head = 0;
  size_t _cached_tail = 0;
};

}  // namespace ringmta
