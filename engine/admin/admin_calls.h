// engine/admin/admin_calls.h — the admin shard's side of AdminCall
// (admin_call.h): send one call to every shard, collect their answers,
// and go on once all of them are in.
//
//   calls.broadcast(call, [](std::vector<std::string> parts) { ... });
//   Shard::on_mesh, for a reply: calls.on_reply(std::move(call));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/admin/admin_call.h"
#include "engine/delivery/delivery_job.h"
#include "engine/runtime/mesh_outbox.h"
#include "engine/shard_context.h"

namespace ringmta {

class AdminCalls {
 public:
  // done gets every shard's reply (in the order they arrived).
  using Done = std::function<void(std::vector<AdminCallPtr> replies)>;

  AdminCalls(const ShardContext& ctx, MeshOutbox<ShardMessage>& outbox) : _ctx(ctx), _outbox(outbox) {}

  // broadcast: `abandoned` runs instead of `done` if the daemon stops
  // before every shard has answered (a stopped shard answers nothing).
  void broadcast(const AdminCall& call, Done done, std::function<void()> abandoned);
  void on_reply(AdminCallPtr reply);
  // abandon_all: the daemon is stopping.
  void abandon_all();

 private:
  struct Pending {
    std::vector<AdminCallPtr> replies;
    size_t left = 0;
    Done done;
    std::function<void()> abandoned;
  };
  const ShardContext& _ctx;
  MeshOutbox<ShardMessage>& _outbox;
  uint64_t _next = 1;
  absl::flat_hash_map<uint64_t, Pending> _pending;
};

}  // namespace ringmta
