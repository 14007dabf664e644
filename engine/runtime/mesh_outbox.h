// engine/runtime/mesh_outbox.h — one shard's sending end of the mesh: what
// it hands other shards (and itself) goes into their SPSC queues, or waits
// here, in order, while a queue is full.
//
//   MeshOutbox<Job> out(mesh, my_id);
//   out.send(to, std::move(job));   // never fails, never blocks
//   out.flush();                    // once per loop iteration, before publish
//
// Sending to itself goes through the mesh too, so a handler never re-enters
// the code that sent (delivery results, local bounces).
#pragma once

#include <deque>
#include <utility>

#include "engine/runtime/shard_mesh.h"

namespace ringmta {

template <typename T>
class MeshOutbox {
 public:
  MeshOutbox(ShardMesh<T>& mesh, unsigned from) : _mesh(mesh), _from(from) {}

  unsigned shards() const { return _mesh.size(); }
  unsigned self() const { return _from; }

  // send pushes item to shard `to`; behind anything already waiting, so
  // that items to one peer keep their order.
  void send(unsigned to, T&& item) {
    // push leaves the item untouched when the queue is full.
    if (!_waiting.empty() || !_mesh.push(_from, to, std::move(item))) {
      _waiting.emplace_back(to, std::move(item));
    }
  }

  // flush moves waiting items into their queues while there is room.
  void flush() {
    while (!_waiting.empty() && _mesh.push(_from, _waiting.front().first, std::move(_waiting.front().second))) {
      _waiting.pop_front();
    }
  }

 private:
  ShardMesh<T>& _mesh;
  const unsigned _from;
  std::deque<std::pair<unsigned, T>> _waiting;
};

}  // namespace ringmta
