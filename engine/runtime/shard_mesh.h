// engine/runtime/shard_mesh.h — the N×N mesh of SPSC queues between shards, with
// wake-ups for sleeping peers.
//
//   ShardMesh<Job> mesh(n_shards, 4096);
//   mesh.attach(shard_id, ring_fd);                // each shard, at start
//   sender:    mesh.push(from, to, std::move(job)); // batched locally
//              mesh.publish(from, ring);           // once per loop iteration
//   receiver:  mesh.drain(to, [](Job&& j) {...});  // once per loop iteration
//              mesh.prepare_sleep(to) / mesh.wake_up(to) around a blocking wait
//
// A shard that is about to block says so (prepare_sleep), then checks its
// queues once more; a producer that publishes to a sleeping peer clears the
// flag and sends it an io_uring message (msg_ring) that completes on the
// peer's ring with user_data `wake_tag`, ending its wait. A peer that is
// busy is never interrupted.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/runtime/spsc_queue.h"

namespace ringmta {

template <typename T>
class ShardMesh {
 public:
  ShardMesh(unsigned shards, size_t queue_capacity, uint64_t wake_tag)
      : _n(shards), _wake_tag(wake_tag), _peers(shards) {
    _queues.reserve(size_t{shards} * shards);
    for (size_t i = 0; i < size_t{shards} * shards; ++i) {
      _queues.push_back(std::make_unique<SpscQueue<T>>(queue_capacity));
    }
  }

  unsigned size() const { return _n; }
  void attach(unsigned shard, int ring_fd) { _peers[shard].ring_fd.store(ring_fd); }

  // push queues item from `from` to `to`; false if that queue is full (the
  // caller keeps the item and retries after the next drain).
  bool push(unsigned from, unsigned to, T&& item) { return queue(from, to).try_push(std::move(item)); }

  // publish makes `from`'s batches visible and wakes sleeping receivers
  // through `ring` (the sender's own ring). Returns how many were woken.
  int publish(unsigned from, io_uring* ring) {
    int woken = 0;
    for (unsigned to = 0; to < _n; ++to) {
      if (!queue(from, to).publish()) {
        continue;
      }
      Peer& p = _peers[to];
      // Dekker's handshake with prepare_sleep: we store the tail then load
      // the flag; the peer stores the flag then loads the tail. Without a
      // full fence on both sides each load may pass its own store (x86 lets
      // a load overtake an earlier store), both miss, and the peer sleeps
      // on published work. With them, one of us sees the other.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (p.sleeping.load(std::memory_order_relaxed) && p.sleeping.exchange(false)) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);
        if (sqe == nullptr) {
          io_uring_submit(ring);
          sqe = io_uring_get_sqe(ring);
        }
        io_uring_prep_msg_ring(sqe, p.ring_fd.load(std::memory_order_relaxed), 0, _wake_tag, 0);
        // The sender does not want a completion for its own wake message.
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        ++woken;
      }
    }
    return woken;
  }

  // drain pops everything published to `to`, in order per sender.
  template <typename F>
  size_t drain(unsigned to, F&& f) {
    size_t n = 0;
    for (unsigned from = 0; from < _n; ++from) {
      SpscQueue<T>& q = queue(from, to);
      while (auto item = q.try_pop()) {
        f(std::move(*item));
        ++n;
      }
    }
    return n;
  }

  bool has_work(unsigned to) const {
    for (unsigned from = 0; from < _n; ++from) {
      if (!queue(from, to).empty()) {
        return true;
      }
    }
    return false;
  }

  // prepare_sleep marks `shard` sleeping and returns false if work arrived
  // meanwhile (then the caller must not block).
  bool prepare_sleep(unsigned shard) {
    _peers[shard].sleeping.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // see publish()
    if (has_work(shard)) {
      _peers[shard].sleeping.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void woke_up(unsigned shard) { _peers[shard].sleeping.store(false, std::memory_order_relaxed); }

 private:
  struct alignas(64) Peer {
    std::atomic<bool> sleeping{false};
    std::atomic<int> ring_fd{-1};
  };
  SpscQueue<T>& queue(unsigned from, unsigned to) { return *_queues[size_t{from} * _n + to]; }
  const SpscQueue<T>& queue(unsigned from, unsigned to) const { return *_queues[size_t{from} * _n + to]; }

  const unsigned _n;
  const uint64_t _wake_tag;
  std::vector<Peer> _peers;
  std::vector<std::unique_ptr<SpscQueue<T>>> _queues;
};

}  // namespace ringmta
