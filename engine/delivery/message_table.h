// engine/delivery/message_table.h — the messages a shard is delivering
// (its live messages), by handle.
//
// One table per shard, made by the shard and handed by reference to the
// components that work on live messages: delivery adds and removes them
// (it decides when a message is final); the store's content loader and
// retention look them up to read content back and to copy records forward.
// A handle is never reused, so a late event for a message that is gone
// finds nothing.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "engine/delivery/domain_ids.h"
#include "engine/delivery/live_message.h"

namespace ringmta {

class MessageTable {
 public:
  // add takes a message and returns its handle.
  uint64_t add(std::unique_ptr<LiveMessage> m) {
    const uint64_t handle = _next++;
    _live.emplace(handle, std::move(m));
    return handle;
  }
  // find: the message, or null when it is gone.
  LiveMessage* find(uint64_t handle) const {
    auto it = _live.find(handle);
    return it == _live.end() ? nullptr : it->second.get();
  }
  // at: a message that must be there.
  LiveMessage& at(uint64_t handle) const { return *_live.at(handle); }
  bool contains(uint64_t handle) const { return _live.contains(handle); }
  void erase(uint64_t handle) { _live.erase(handle); }
  size_t size() const { return _live.size(); }
  // domains: the interned recipient domains (RcptState::domain).
  DomainIds& domains() { return _domains; }
  const DomainIds& domains() const { return _domains; }
  // for_each calls f(handle, LiveMessage&) for every message; f must not
  // add or erase.
  template <typename F>
  void for_each(F&& f) {
    for (auto& [handle, m] : _live) {
      f(handle, *m);
    }
  }

 private:
  absl::flat_hash_map<uint64_t, std::unique_ptr<LiveMessage>> _live;
  DomainIds _domains;
  uint64_t _next = 1;
};

}  // namespace ringmta
