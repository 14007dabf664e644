// engine/store/segments.h — which spool segments a shard has, how many live
// messages each still counts, a read fd for each, and deleting them.
//
//   Segments segs(ctx, recovered);
//   segs.open();                          // the shard directory's fd
//   segs.note(writer);                    // after every batch start
//   SpoolRef r = segs.ref_of(placement);  segs.acquire(r);  ... segs.release(r);
//   int fd = segs.read_fd(r);             // to read a record back
//   segs.maybe_delete();                  // after batches settle, on ticks
//
// A live message is counted against the segment holding its record (its
// "home"; for an adopted message, the shared RecoveredSpool). This run's
// own segments are deleted oldest first, when sealed and counting nothing,
// one at a time, each unlink made durable (directory fsync) before the
// next: state records always follow their message, so a crash leaves a
// deleted prefix and loses no needed state record (the argument is in
// spool/segment_ledger.h). None of them goes before the segments recovery
// found are retired (RecoveredSpool::retired()): those hold the state
// records of adopted messages, which must outlive these messages' records.
//
// Deletion runs on the ring: IORING_OP_UNLINKAT on the shard directory's
// fd, then after its completion IORING_OP_FSYNC of the directory; the
// shard thread never waits on either.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/runtime/component.h"
#include "engine/shard_context.h"
#include "engine/store/recovered_spool.h"
#include "engine/store/spool_ref.h"
#include "spool/segment_ledger.h"
#include "spool/segment_writer.h"

namespace ringmta {

class Segments : public Component {
 public:
  // recovered: the segments recovery found (shared by all shards), or null.
  Segments(const ShardContext& ctx, RecoveredSpool* recovered) : _ctx(ctx), _recovered(recovered) {}
  ~Segments();
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  // open opens the shard directory (deletions are unlinkat + fsync on it).
  absl::Status open();
  // note records the writer's current segment, if it is new, with a read fd.
  void note(const spool::SegmentWriter& writer);

  // ref_of: where a placed record is, as a live message remembers it.
  SpoolRef ref_of(const spool::Placement& p) const;
  // acquire / release count a live message against its home segment.
  void acquire(const SpoolRef& ref);
  void release(const SpoolRef& ref);
  // read_fd: an fd to read ref's record back with, or -1.
  int read_fd(const SpoolRef& ref) const;
  // oldest_holding_back: the oldest segment when it still counts live
  // messages and holds back at least min_segments (itself and the open one
  // included); else nullopt.
  struct Oldest {
    uint32_t slot;    // as SpoolRef::seg
    uint64_t number;  // its file's number
    uint64_t live;    // live messages it counts
  };
  std::optional<Oldest> oldest_holding_back(size_t min_segments) const;

  // maybe_delete starts deleting the oldest deletable segment, if any.
  void maybe_delete();

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  bool drained() const override { return !_busy; }
  uint64_t deleted() const { return _deleted; }

 private:
  struct OwnSegment {
    uint64_t number = 0;
    int fd = -1;  // our own read fd, while the segment exists
  };
  void on_unlinked(int res);
  void on_dir_synced(int res);

  const ShardContext& _ctx;
  RecoveredSpool* const _recovered;
  spool::SegmentLedger _ledger;
  std::vector<OwnSegment> _segs;  // this run's own, by slot (SpoolRef::seg)
  int _dir_fd = -1;
  bool _busy = false;  // an unlink or its directory fsync is in flight
  uint64_t _number = 0;  // the segment being deleted
  std::string _name;     // its file name: the kernel reads it until the unlink completes
  uint64_t _deleted = 0;
};

}  // namespace ringmta
