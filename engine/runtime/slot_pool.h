// engine/runtime/slot_pool.h — slots that the kernel may point into, reused
// by number: connections, outbound connections, spool reads.
//
//   SlotPool<Connection> conns;
//   uint32_t slot = conns.acquire();   // a free slot, or a new one
//   conns[slot].io.fd = fd;            // ... encode(Op::kRecv, slot, gen)
//   conns.release(slot);               // once no operation is in flight
//
// A std::deque underneath: growing it never moves an element, and in-flight
// io_uring operations hold pointers into the elements (a send's buffer, a
// read's destination). A released slot keeps its contents (its generation
// counter above all), so the user resets what it must on reuse.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace ringmta {

template <typename T>
class SlotPool {
 public:
  // acquire returns a free slot's number, growing the pool when none is free.
  uint32_t acquire() {
    if (!_free.empty()) {
      uint32_t slot = _free.back();
      _free.pop_back();
      return slot;
    }
    _items.emplace_back();
    return static_cast<uint32_t>(_items.size() - 1);
  }
  // release makes slot free for a later acquire.
  void release(uint32_t slot) { _free.push_back(slot); }

  T& operator[](uint32_t slot) { return _items[slot]; }
  const T& operator[](uint32_t slot) const { return _items[slot]; }
  // size counts every slot ever made, free ones included.
  uint32_t size() const { return static_cast<uint32_t>(_items.size()); }
  // in_use: slots acquired and not released.
  uint32_t in_use() const { return size() - static_cast<uint32_t>(_free.size()); }
  auto begin() { return _items.begin(); }
  auto end() { return _items.end(); }

 private:
  std::deque<T> _items;
  std::vector<uint32_t> _free;
};

}  // namespace ringmta
