// engine/admin/admin_calls.cc — scatter and gather over the mesh (admin_calls.h).
#include "engine/admin/admin_calls.h"

#include <memory>

namespace ringmta {

void AdminCalls::broadcast(const AdminCall& call, Done done, std::function<void()> abandoned) {
  const uint64_t id = _next++;
  Pending& p = _pending[id];
  p.left = _outbox.shards();
  p.done = std::move(done);
  p.abandoned = std::move(abandoned);
  for (unsigned s = 0; s < _outbox.shards(); ++s) {
    auto c = std::make_unique<AdminCall>(call);
    c->from = _ctx.id;
    c->call = id;
    c->reply = false;
    _outbox.send(s, ShardMessage(std::move(c)));
  }
}

void AdminCalls::on_reply(AdminCallPtr reply) {
  auto it = _pending.find(reply->call);
  if (it == _pending.end()) {
    return;
  }
  Pending& p = it->second;
  p.replies.push_back(std::move(reply));
  if (--p.left == 0) {
    Done done = std::move(p.done);
    std::vector<AdminCallPtr> replies = std::move(p.replies);
    _pending.erase(it);
    done(std::move(replies));
  }
}

void AdminCalls::abandon_all() {
  auto pending = std::move(_pending);
  _pending.clear();
  for (auto& [id, p] : pending) {
    p.abandoned();
  }
}

}  // namespace ringmta
