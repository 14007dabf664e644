#include "spool/segment_ledger.h"

#include <unistd.h>

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/recovery.h"
#include "spool/segment_writer.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

TEST(SegmentLedger, TheOpenSegmentIsNeverDeleted) {
  SegmentLedger l;
  EXPECT_FALSE(l.next_deletable());
  l.opened(1);
  EXPECT_FALSE(l.next_deletable()) << "segment 1 is being written";
  l.opened(2);
  EXPECT_EQ(l.next_deletable(), 1u) << "sealed and empty";
}

TEST(SegmentLedger, OldestFirstAndOnlyWhenNothingLive) {
  SegmentLedger l;
  l.opened(1);
  l.acquire(1);
  l.opened(2);
  l.opened(3);
  l.opened(4);
  // 2 and 3 hold nothing live, but 1 does: its state records may be in
  // 2 or 3, so neither goes before it.
  EXPECT_FALSE(l.next_deletable());
  l.release(1);
  ASSERT_EQ(l.next_deletable(), 1u);
  l.deleting(1);
  EXPECT_FALSE(l.next_deletable()) << "one deletion at a time";
  l.deleted(1);
  EXPECT_EQ(l.next_deletable(), 2u);
  l.deleting(2);
  l.deleted(2);
  EXPECT_EQ(l.next_deletable(), 3u);
  l.deleting(3);
  l.deleted(3);
  EXPECT_FALSE(l.next_deletable()) << "4 is open";
  EXPECT_EQ(l.size(), 1u);
}

TEST(SegmentLedger, CountsAreKeptPerSegment) {
  SegmentLedger l;
  l.opened(5);
  l.acquire(5);
  l.acquire(5);
  l.opened(9);  // numbers may skip (a name taken)
  l.acquire(9);
  l.acquire(7);  // unknown: ignored
  ASSERT_NE(l.find(5), nullptr);
  EXPECT_EQ(l.find(5)->live, 2u);
  EXPECT_EQ(l.find(9)->live, 1u);
  EXPECT_EQ(l.find(7), nullptr);
  l.release(5);
  l.release(5);
  l.release(5);  // never below zero
  EXPECT_EQ(l.find(5)->live, 0u);
  EXPECT_EQ(l.find(5)->total, 2u);
  EXPECT_EQ(l.oldest()->number, 5u);
  EXPECT_EQ(l.current(), 9u);
  EXPECT_EQ(l.sealed(), 1u);
  EXPECT_EQ(l.next_deletable(), 5u);
}

TEST(SegmentLedger, StuckStopsDeleting) {
  SegmentLedger l;
  l.opened(1);
  l.opened(2);
  l.opened(3);
  l.deleting(1);
  l.stuck();  // the unlink or the directory fsync failed
  l.deleted(1);
  EXPECT_TRUE(l.is_stuck());
  EXPECT_FALSE(l.next_deletable());
}

}  // namespace
}  // namespace ringmta::spool

// The rule on real files: a writer that rotates every few records,
// messages, and their "delivered" records written later (so usually in a
// younger segment). Whatever the ledger lets go, a crash right after
// (recovery) brings back no delivered message and loses no live one. And
// the counter-example: deleting a younger, empty segment before an older
// one that still holds a live message brings a delivered message back.

namespace ringmta::spool {
namespace {

struct Spooled {
  std::string id;
  proto::Envelope env;
  std::string body;
  uint64_t segment = 0;
};

class LedgerOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = shard_dir(tmp.path(), 0);
    WriterOptions o;
    o.segment_bytes = 2048;
    auto opened = SegmentWriter::open(dir, o);
    ASSERT_TRUE(opened.ok());
    w = std::move(*opened);
    ledger.opened(w->segment_number());
  }
  // flush writes what is pending, batch by batch, telling the ledger of
  // each new segment and where each message went.
  void flush() {
    while (w->can_start_batch()) {
      SegmentWriter::Batch b = w->start_batch();
      ledger.opened(w->segment_number());
      auto r = w->on_write_done(testing::pwritev_once(b));
      ASSERT_TRUE(r.ok());
      ASSERT_TRUE(w->on_sync_done(testing::fdatasync_res(b.fd)).ok());
      for (const Placement& p : w->durable_messages()) {
        for (Spooled& m : msgs) {
          if (m.id == ticket_id[p.ticket]) {
            m.segment = p.segment;
            ledger.acquire(p.segment);
          }
        }
      }
    }
  }
  void store(int i) {
    Spooled& m = msgs[i];
    ticket_id[w->append_message(MessageRecord{m.id, kNow0, &m.env, "", m.body})] = m.id;
  }
  void deliver(int i) {
    RecipientStateRecord s;
    s.queue_id = msgs[i].id;
    s.rcpt_index = 0;
    s.state.status = RcptStatus::kDelivered;
    s.state.attempts = 1;
    w->append_state(s);
    flush();
    ledger.release(msgs[i].segment);  // final, and its record is durable
  }
  std::set<std::string> live_after_crash() {
    auto r = recover(tmp.path(), RecoverMode::kReadOnly);
    EXPECT_TRUE(r.ok()) << r.status();
    std::set<std::string> ids;
    for (const RecoveredMessage& m : r->messages) {
      ids.insert(m.queue_id);
    }
    return ids;
  }
  std::string path_of(uint64_t n) { return dir + "/" + segment_file_name(n); }

  static inline const absl::Time kNow0 = absl::FromUnixMillis(1732269296123);
  testing::TempDir tmp;
  std::string dir;
  std::unique_ptr<SegmentWriter> w;
  SegmentLedger ledger;
  std::vector<Spooled> msgs;
  std::map<uint64_t, std::string> ticket_id;
};

TEST_F(LedgerOnDisk, DeletingOldestFirstNeverBringsBackADeliveredMessage) {
  QueueIdGenerator gen(0);
  const int n = 30, deferred = 5;
  for (int i = 0; i < n; ++i) {
    msgs.push_back({gen.next(kNow0 + absl::Milliseconds(i)), testing::sample_envelope(i, 1),
                    testing::sample_body(i, 500)});
  }
  std::set<std::string> live;
  int deleted = 0;
  for (int i = 0; i < n; ++i) {
    store(i);
    flush();
    live.insert(msgs[i].id);
    // Each message is delivered three messages later, except one that
    // stays deferred and so holds its segment (and every younger one).
    if (i >= 3 && i - 3 != deferred) {
      deliver(i - 3);
      live.erase(msgs[i - 3].id);
    }
    while (std::optional<uint64_t> s = ledger.next_deletable()) {
      ledger.deleting(*s);
      ASSERT_EQ(::unlink(path_of(*s).c_str()), 0);
      ASSERT_TRUE(sync_dir(dir).ok());
      ledger.deleted(*s);
      ++deleted;
      EXPECT_EQ(live_after_crash(), live) << "after deleting segment " << *s;
    }
  }
  ASSERT_GT(w->segment_number(), msgs[deferred].segment + 3) << "the test needs many segments";
  EXPECT_GT(deleted, 0) << "the segments before the deferred message's go";
  EXPECT_EQ(ledger.oldest()->number, msgs[deferred].segment)
      << "the deferred message's segment holds back the rest";

  // Counter-example: a younger segment with nothing live in it holds the
  // "delivered" record of a message whose own segment is still there.
  // Deleting it first (what oldest-first forbids) brings that message back.
  const Spooled* victim = nullptr;
  for (const Spooled& m : msgs) {
    if (m.segment == msgs[deferred].segment && m.id != msgs[deferred].id) {
      victim = &m;
    }
  }
  ASSERT_NE(victim, nullptr);
  ASSERT_FALSE(live.contains(victim->id));
  for (uint64_t s = victim->segment + 1; s < w->segment_number(); ++s) {
    ::unlink(path_of(s).c_str());
  }
  EXPECT_TRUE(live_after_crash().contains(victim->id))
      << "deleting younger segments first resurrects a delivered message";
}

}  // namespace
}  // namespace ringmta::spool
