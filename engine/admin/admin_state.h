// engine/admin/admin_state.h — what an operator decided that must outlive
// a restart: the suspensions and holds in force (ringmta-ctl suspend,
// hold). One per process, shared by the shards' admin APIs; every change
// is written to SPOOL/admin-blocks.tsv (a temporary file, fsync, rename,
// fsync of the directory) before it is acted on or acknowledged.
//
//   auto s = AdminState::open(spool_dir);          // main, at start
//   std::vector<AdminBlock> now = s->blocks(now_s);
//   absl::StatusOr<std::vector<AdminBlock>> after = s->change([&](auto& list) { ... }, now_s);
//
// The write blocks the calling shard's loop for one small fsync (a
// millisecond or so on a disk that syncs fast): acceptable for a command
// an operator types, and far simpler than a ring-driven write for it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/admin/admin_call.h"

namespace ringmta {

class AdminState {
 public:
  static absl::StatusOr<std::unique_ptr<AdminState>> open(const std::string& spool_dir);

  // blocks: those in force at now_s (ended suspensions left out).
  std::vector<AdminBlock> blocks(int64_t now_s) const;
  // change applies f to the list, drops ended suspensions, and writes the
  // result durably; on a write error nothing changes.
  // The version counts changes: two changes made on two shards at once
  // reach a third in either order, and it keeps the newer list.
  struct Changed {
    std::vector<AdminBlock> blocks;
    uint64_t version = 0;
  };
  absl::StatusOr<Changed> change(const std::function<void(std::vector<AdminBlock>&)>& f, int64_t now_s);

 private:
  explicit AdminState(std::string path) : _path(std::move(path)) {}
  absl::Status save(const std::vector<AdminBlock>& list) const;

  const std::string _path;
  mutable std::mutex _mu;
  std::vector<AdminBlock> _blocks;
  uint64_t _version = 0;
};

}  // namespace ringmta
