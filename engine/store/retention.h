// engine/store/retention.h — keeping the spool small: a message's records
// count against their segment until the message is final and durably so,
// records are copied forward out of old segments, and what must wait for a
// batch to settle waits here ("a segment is deleted once every message in
// it is final", DESIGN.md "The spool").
//
// The rules:
//
// 1. A message is live from the moment its record is durable until every
//    recipient is delivered or bounced AND the last record written for it
//    (state records, its DSN, a copy) is durable. Deleting a message's
//    record before its final state record is synced would in itself be
//    safe (with the record gone, nothing is left to redeliver), but a DSN
//    must be on disk before the message that caused it may disappear, and
//    one rule is simpler to check than two. State records are flushed at
//    most 50 ms late (store.h), so the wait costs nothing.
// 2. A live message is counted against the segment holding its record, its
//    "home"; segments are deleted by the rules in segments.h.
// 3. Copy forward. A copy is the message record appended again to the
//    current segment, followed by one state record per recipient that is
//    not pending (the "snapshot": it carries forward every state recorded
//    in older segments). Once both are durable the message's home moves to
//    the copy. Copies are made of every adopted message when it is first
//    read back (so the recovered group can go), and of the live messages
//    of the oldest segment when it holds back kCompactAfterSegments or more
//    (compaction: one long-deferred message would otherwise keep every
//    younger segment for days). Recovery keeps the first copy it meets of a
//    message and merges every state record, so two copies are harmless.
//
// When writes fail: a copy whose record or snapshot did not reach the disk
// is made again at the next tick (the message stays home meanwhile). A
// finished message whose last records failed keeps its segment for good
// (until a restart looks again), rather than risk losing a DSN.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/delivery/message_table.h"
#include "engine/runtime/component.h"
#include "engine/shard_context.h"
#include "engine/store/content_loader.h"
#include "engine/store/segments.h"
#include "engine/store/store.h"

namespace ringmta {

class Retention : public Component {
 public:
  Retention(const ShardContext& ctx, MessageTable& table, Store& store, Segments& segments,
            ContentLoader& loader)
      : _ctx(ctx), _table(table), _store(store), _segments(segments), _loader(loader) {}

  // on_final: the message `handle` is final (delivery forgets it next); its
  // segments stop counting it once its last record is durable (rule 1).
  void on_final(const LiveMessage& lm);
  // append_copy writes the message's record and snapshot forward (rule 3);
  // its content must be in memory.
  void append_copy(uint64_t handle);
  // on_settled runs after each batch settles (Store's settled hook).
  void on_settled(bool ok, uint64_t through);

  uint64_t copies() const { return _copies; }
  void on_tick(int64_t now_ms) override;

 private:
  // Work that waits for a ticket to settle.
  struct AfterDurable {
    enum class Kind : uint8_t { kRelease, kCopyPlaced, kCopyDone };
    uint64_t ticket = 0;
    uint64_t order = 0;  // push order, among equal tickets
    Kind kind = Kind::kRelease;
    uint32_t copy_seq = 0;
    uint64_t handle = 0;
    SpoolRef a, b;  // kRelease: the segments to release
    // The heap's order: by ticket, then by push order.
    static bool later(const AfterDurable& x, const AfterDurable& y) {
      return x.ticket != y.ticket ? x.ticket > y.ticket : x.order > y.order;
    }
  };
  void after_durable(AfterDurable ev);
  void apply(const AfterDurable& ev, bool ok);
  void migrate(uint64_t handle);
  void maybe_compact();

  const ShardContext& _ctx;
  MessageTable& _table;
  Store& _store;
  Segments& _segments;
  ContentLoader& _loader;
  std::vector<AfterDurable> _after;  // a min-heap by (ticket, order)
  uint64_t _after_order = 0;
  std::vector<uint64_t> _copy_retry;  // copies whose records failed: again at the next tick
  int64_t _next_compact_ms = 0;
  uint64_t _copies = 0;
};

}  // namespace ringmta
