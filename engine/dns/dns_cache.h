// engine/dns/dns_cache.h — a shard's DNS answers, kept for their TTL. One per
// resolver, so one per shard: no locks. Bounded: when full, expired entries
// go first, then arbitrary ones (an eighth at a time, so that a full cache
// does not sweep on every insert).
//
//   DnsCache<int> c(1000);
//   c.put("example.test", 42, /*ttl_s=*/300, now_ms);
//   const int* v = c.get("example.test", now_ms);   // nullptr once expired
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

template <typename V>
class DnsCache {
 public:
  explicit DnsCache(size_t max_entries) : _max(max_entries == 0 ? 1 : max_entries) {}

  // get returns the live entry for `key`, or nullptr. The pointer is valid
  // until the next put.
  const V* get(std::string_view key, int64_t now_ms) {
    auto it = _map.find(av(key));
    if (it == _map.end()) {
      return nullptr;
    }
    if (it->second.expires_ms <= now_ms) {
      _map.erase(it);
      return nullptr;
    }
    return &it->second.value;
  }

  // put keeps `value` for ttl_s seconds; a TTL of 0 means "do not cache".
  void put(std::string key, V value, uint32_t ttl_s, int64_t now_ms) {
    if (ttl_s == 0) {
      return;
    }
    if (_map.size() >= _max && !_map.contains(av(key))) {
      make_room(now_ms);
    }
    _map.insert_or_assign(std::move(key), Entry{std::move(value), now_ms + int64_t{ttl_s} * 1000});
  }

  size_t size() const { return _map.size(); }
  void clear() { _map.clear(); }

 private:
  struct Entry {
    V value;
    int64_t expires_ms;
  };

  void make_room(int64_t now_ms) {
    absl::erase_if(_map, [now_ms](const auto& kv) { return kv.second.expires_ms <= now_ms; });
    size_t evict = _map.size() >= _max ? _max / 8 + 1 : 0;
    while (evict > 0 && !_map.empty()) {
      _map.erase(_map.begin());
      --evict;
    }
  }

  const size_t _max;
  absl::flat_hash_map<std::string, Entry> _map;
};

}  // namespace ringmta
