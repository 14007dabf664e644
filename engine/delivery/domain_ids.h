// engine/delivery/domain_ids.h — the recipient domains of a shard's live
// messages, interned: each recipient keeps a 4-byte id instead of its
// address, so that the admin API can find mail by domain ("what is queued
// for yahoo.com", "flush example.com") even for deferred messages, whose
// envelope is not in memory (only their metadata is, live_message.h).
//
//   uint32_t id = ids.acquire("example.com");   // per recipient
//   ids.name(id);                                // "example.com"
//   ids.release(id);                             // when the recipient is final
//
// Reference counted; an id whose count drops to zero is reused.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringmta {

class DomainIds {
 public:
  static constexpr uint32_t kNone = 0;

  uint32_t acquire(std::string_view domain) {
    if (domain.empty()) {
      return kNone;
    }
    auto it = _by_name.find(domain);
    if (it != _by_name.end()) {
      ++_entries[it->second].refs;
      return it->second;
    }
    uint32_t id;
    if (!_free.empty()) {
      id = _free.back();
      _free.pop_back();
    } else {
      id = static_cast<uint32_t>(_entries.size());
      _entries.emplace_back();
    }
    _entries[id] = Entry{std::string(domain), 1};
    _by_name.emplace(_entries[id].name, id);
    return id;
  }
  void release(uint32_t id) {
    if (id == kNone || id >= _entries.size() || _entries[id].refs == 0) {
      return;
    }
    if (--_entries[id].refs == 0) {
      _by_name.erase(_entries[id].name);
      _entries[id].name = std::string();
      _free.push_back(id);
    }
  }
  std::string_view name(uint32_t id) const { return id < _entries.size() ? _entries[id].name : std::string_view(); }
  // find: the id of a domain some live recipient has, if any.
  std::optional<uint32_t> find(std::string_view domain) const {
    auto it = _by_name.find(domain);
    return it == _by_name.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
  size_t size() const { return _by_name.size(); }

 private:
  struct Entry {
    std::string name;
    uint32_t refs = 0;
  };
  // A deque: growing it never moves an entry, so the views _by_name keys
  // by (into the names, short ones inline in the string) stay valid.
  std::deque<Entry> _entries{Entry{}};  // id 0 is kNone
  std::vector<uint32_t> _free;
  absl::flat_hash_map<std::string_view, uint32_t> _by_name;  // views into _entries' names
};

}  // namespace ringmta
