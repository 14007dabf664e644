// engine/store/recovered_spool.h — the segments recovery found at start, shared
// by every shard: their read fds (the shards read adopted messages back
// through their own rings), and their deletion as one group.
//
//   auto rs = RecoveredSpool::open(root, report);   // main, before the shards
//   shard->set_recovered(rs.get());
//   ... shard: rs->fd(ref.index()) to read; rs->release() per adopted message
//   ... shard: if (rs->retired()) its own segments may be deleted
//
// Why one group: after a shard-count change a message adopted by shard 1
// may lie in shard-3's directory with its state records in shard-0's, and
// nothing in the files orders such segments safely for one-by-one deletion
// (spool/retire_list.h). So they go together, through a retire list, once
// every adopted message has either become final or been copied, with its
// recipients' states, into its shard's own segment (the shards copy every
// adopted message forward as they start: engine/store/retention.h). A
// shard's own segments of this run are deleted only after that (retired()):
// they hold the state records of adopted messages, which must outlive the
// records they describe.
//
// The deletion itself (a list written and fsynced, unlinks, directory
// fsyncs) is blocking I/O, so it runs on a thread of its own, never on a
// shard. release() is one atomic decrement; the last one wakes that thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "spool/recovery.h"

namespace ringmta {

class RecoveredSpool {
 public:
  // open takes the segments in report and counts the live messages in
  // them; it opens a read fd for each segment that holds one. With no
  // live message the group is retired at once (on the janitor thread).
  static absl::StatusOr<std::unique_ptr<RecoveredSpool>> open(const std::string& root,
                                                              const spool::RecoveryReport& report);
  ~RecoveredSpool();  // stops and joins the janitor thread
  RecoveredSpool(const RecoveredSpool&) = delete;
  RecoveredSpool& operator=(const RecoveredSpool&) = delete;

  // fd: a read-only fd of segment index (RecoveredMessage::segment), or -1.
  int fd(uint32_t index) const;
  const std::string& path(uint32_t index) const { return _paths[index]; }

  // release: one adopted message no longer needs its recovered segment
  // (final and durably so, or durably copied forward). Any thread.
  void release();
  // retired: the whole group is durably deleted (or there was none).
  bool retired() const { return _retired.load(std::memory_order_acquire); }
  uint64_t remaining() const { return _remaining.load(std::memory_order_acquire); }

 private:
  RecoveredSpool() = default;
  void janitor();

  std::string _root;
  std::vector<std::string> _paths;
  std::vector<int> _fds;
  std::atomic<uint64_t> _remaining{0};
  std::atomic<bool> _retired{false};
  std::atomic<bool> _stop{false};
  std::atomic<bool> _fds_closed{false};  // by the janitor, after the group is deleted
  int _wake_fd = -1;  // eventfd: the last release, or the stop
  std::thread _thread;
};

}  // namespace ringmta
