// engine/outbound/egress.cc — looking up sources and pools, and the
// weighted round robin (egress.h).
#include "engine/outbound/egress.h"

namespace ringmta {

const EgressPool* Egress::pool(std::string_view name) const {
  for (const EgressPool& p : pools) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

const EgressPool* Egress::pool_for(std::string_view header, std::string_view sender_domain) const {
  if (!header.empty()) {
    if (const EgressPool* p = pool(header)) {
      return p;
    }
    // An unknown pool name falls back like a missing header: the message
    // still goes out, from where this sender's mail goes.
  }
  if (auto it = pool_by_sender_domain.find(sender_domain); it != pool_by_sender_domain.end()) {
    return pool(it->second);
  }
  return default_pool.empty() ? nullptr : pool(default_pool);
}

const EgressSource& PoolCursor::next(const EgressPool& pool, const Egress& egress) {
  const auto index = static_cast<size_t>(&pool - egress.pools.data());
  if (_current.size() <= index) {
    _current.resize(egress.pools.size());
  }
  std::vector<int64_t>& cur = _current[index];
  cur.resize(pool.members.size());
  int64_t total = 0;
  size_t best = 0;
  for (size_t i = 0; i < pool.members.size(); ++i) {
    cur[i] += pool.members[i].weight;
    total += pool.members[i].weight;
    if (cur[i] > cur[best]) {
      best = i;
    }
  }
  cur[best] -= total;
  return egress.sources[pool.members[best].source];
}

}  // namespace ringmta
