// spool/segment_ledger.h — which of one shard's segments may be deleted:
// a count of live messages per segment, and the deletion rule. Pure
// bookkeeping: engine/ counts, performs the unlink and reports back.
//
//   SegmentLedger l;
//   l.opened(7);                          // the writer started segment 7
//   l.acquire(7);                         // a live message's record is in 7
//   l.opened(8);                          // 7 is sealed now
//   l.release(7);                         // that message is final (durably)
//   if (auto n = l.next_deletable()) { l.deleting(*n); unlink; fsync dir; l.deleted(*n); }
//
// The rule: a segment is deleted when it is sealed (not the one being
// written), no live message has its record in it, and it is the OLDEST
// segment this ledger still holds; one deletion at a time, the next only
// after the previous unlink and its directory fsync completed.
//
// Why oldest first: a segment holds state records (delivered, deferred,
// bounced) of messages whose records are in the same or an OLDER segment
// (a state record is written after its message). Deleting a segment while
// an older one survives could drop the only record saying that a recipient
// of a surviving message was delivered, and a crash would then deliver it
// again. Deleting oldest first, each deletion durable before the next, a
// crash at any point leaves a deleted prefix: every surviving message
// still has every state record written about it. The cost is that one
// long-lived message holds every younger segment; the engine relieves that
// by copying such messages forward (compaction), after which the old
// segment is empty.
//
// "Live" is the engine's to decide; its rule is in engine/store/retention.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace ringmta::spool {

class SegmentLedger {
 public:
  // opened: the writer started segment `number`; every earlier one is
  // sealed from now on. Numbers only grow.
  void opened(uint64_t number);
  // acquire / release: a live message's record lies in segment `number`.
  void acquire(uint64_t number);
  void release(uint64_t number);

  // next_deletable: the segment to delete now, if any (see the rule above).
  std::optional<uint64_t> next_deletable() const;
  // deleting: its unlink was issued. deleted: unlink and directory fsync
  // completed. stuck: an unlink or fsync failed; nothing more is deleted
  // (whether that one is gone is unknown, and the next may depend on it).
  void deleting(uint64_t number);
  void deleted(uint64_t number);
  void stuck() { _stuck = true; }
  bool is_stuck() const { return _stuck; }

  // For compaction and tests.
  struct Segment {
    uint64_t number = 0;
    uint64_t live = 0;   // live messages with their record here
    uint64_t total = 0;  // messages ever counted here
  };
  const Segment* oldest() const;
  const Segment* find(uint64_t number) const;
  size_t size() const { return _segs.size(); }  // segments held, the open one included
  size_t sealed() const { return _segs.empty() ? 0 : _segs.size() - 1; }
  uint64_t current() const { return _segs.empty() ? 0 : _segs.back().number; }

 private:
  Segment* find_mut(uint64_t number);
  std::deque<Segment> _segs;  // by number, oldest first; the last is the open one
  bool _deleting = false;
  bool _stuck = false;
};

}  // namespace ringmta::spool
