#include "spool/segment_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/recovery.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using testing::fdatasync_res;
using testing::flush_all;
using testing::flush_batch;
using testing::pwritev_once;
using testing::sample_body;
using testing::sample_envelope;
using testing::TempDir;
using WR = SegmentWriter::WriteResult;

const absl::Time kNow = absl::FromUnixMillis(1732269296123);

// Messages keeps what the writer's string_views point at alive.
struct Messages {
  std::vector<std::string> ids;
  std::vector<proto::Envelope> envs;
  std::vector<std::string> bodies;
  std::string trace = "Received: from client.example.test by ringmta\r\n";
  QueueIdGenerator gen{0};

  explicit Messages(int n, size_t body_size = 300) {
    for (int i = 0; i < n; ++i) {
      ids.push_back(gen.next(kNow));
      envs.push_back(sample_envelope(i));
      bodies.push_back(sample_body(i, body_size));
    }
  }
  MessageRecord rec(int i) const {
    return MessageRecord{ids[i], kNow, &envs[i], trace, bodies[i]};
  }
};

std::unique_ptr<SegmentWriter> open_writer(const std::string& dir, WriterOptions o = {}) {
  auto w = SegmentWriter::open(dir, o);
  EXPECT_TRUE(w.ok()) << w.status();
  return std::move(*w);
}

size_t live_count(const std::string& root) {
  auto r = recover(root, RecoverMode::kReadOnly);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->messages.size() : 0;
}

TEST(SegmentWriter, OpenCreatesDirAndSegment) {
  TempDir tmp;
  auto w = open_writer(shard_dir(tmp.path(), 0));
  EXPECT_EQ(w->segment_path(), shard_dir(tmp.path(), 0) + "/seg-0000000000000001.log");
  struct stat st;
  ASSERT_EQ(::stat(w->segment_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(w->can_start_batch());
  EXPECT_FALSE(w->in_flight());
  // A second writer never reuses a name.
  auto w2 = open_writer(shard_dir(tmp.path(), 0));
  EXPECT_EQ(w2->segment_path(), shard_dir(tmp.path(), 0) + "/seg-0000000000000002.log");
}

TEST(SegmentWriter, NumbersAboveMinNumber) {
  // Segment 7 was seen by recovery and then deleted by another thread: its
  // name must not come back, though the directory no longer shows it.
  TempDir tmp;
  WriterOptions o;
  o.min_number = 7;
  auto w = open_writer(shard_dir(tmp.path(), 0), o);
  EXPECT_EQ(w->segment_path(), shard_dir(tmp.path(), 0) + "/seg-0000000000000008.log");
  // What the directory holds still counts when it is higher.
  o.min_number = 3;
  auto w2 = open_writer(shard_dir(tmp.path(), 0), o);
  EXPECT_EQ(w2->segment_path(), shard_dir(tmp.path(), 0) + "/seg-0000000000000009.log");
}

TEST(SegmentWriter, GroupCommit) {
  TempDir tmp;
  Messages m(5);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  EXPECT_EQ(w->append_message(m.rec(0)), 1u);
  EXPECT_EQ(w->append_message(m.rec(1)), 2u);
  EXPECT_EQ(w->append_message(m.rec(2)), 3u);
  ASSERT_TRUE(w->can_start_batch());
  SegmentWriter::Batch b = w->start_batch();
  EXPECT_TRUE(w->in_flight());
  EXPECT_FALSE(w->can_start_batch());
  EXPECT_EQ(b.offset, 0u);
  EXPECT_EQ(b.iov.size(), 6u);  // head+meta+trace, body for each
  // Two more arrive while the first batch is in flight: they wait.
  EXPECT_EQ(w->append_message(m.rec(3)), 4u);
  EXPECT_EQ(w->append_message(m.rec(4)), 5u);
  EXPECT_FALSE(w->can_start_batch());
  auto r = w->on_write_done(pwritev_once(b));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, WR::kWaitSync);
  EXPECT_EQ(w->durable_through(), 0u);  // written is not durable
  ASSERT_TRUE(w->on_sync_done(fdatasync_res(b.fd)).ok());
  EXPECT_EQ(w->durable_through(), 3u);
  EXPECT_EQ(live_count(tmp.path()), 3u);
  // The next batch covers both waiting records with one sync.
  ASSERT_TRUE(w->can_start_batch());
  SegmentWriter::Batch b2 = w->start_batch();
  EXPECT_EQ(b2.iov.size(), 4u);
  EXPECT_GT(b2.offset, 0u);
  ASSERT_TRUE(w->on_write_done(pwritev_once(b2)).ok());
  EXPECT_EQ(w->durable_through(), 3u);
  ASSERT_TRUE(w->on_sync_done(fdatasync_res(b2.fd)).ok());
  EXPECT_EQ(w->durable_through(), 5u);
  EXPECT_EQ(w->failed_through(), 0u);
  EXPECT_FALSE(w->can_start_batch());

  auto rep = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(rep.ok()) << rep.status();
  ASSERT_EQ(rep->messages.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rep->messages[i].queue_id, m.ids[i]);
    EXPECT_EQ(*read_content(rep->messages[i]), m.trace + m.bodies[i]);
  }
}

TEST(SegmentWriter, ShortWriteResumes) {
  TempDir tmp;
  Messages m(4);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  for (int i = 0; i < 4; ++i) {
    w->append_message(m.rec(i));
  }
  SegmentWriter::Batch b = w->start_batch();
  size_t total = 0;
  for (const iovec& v : b.iov) {
    total += v.iov_len;
  }
  // Short writes that end inside a head, inside a body, on a boundary, and
  // one byte later.
  const size_t head0 = b.iov[0].iov_len, body0 = b.iov[1].iov_len;
  std::vector<size_t> steps = {5, head0 - 5 + 10, body0 - 10, 1};
  size_t done = 0;
  for (size_t step : steps) {
    auto r = w->on_write_done(pwritev_once(b, step));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(*r, WR::kResubmit);
    done += step;
    // The kernel cancels a sync linked to a short write: ignored.
    EXPECT_TRUE(w->on_sync_done(-ECANCELED).ok());
    b = w->resume_batch();
    EXPECT_EQ(b.offset, done);
  }
  auto r = w->on_write_done(pwritev_once(b));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, WR::kWaitSync);
  EXPECT_LT(done, total);
  ASSERT_TRUE(w->on_sync_done(fdatasync_res(b.fd)).ok());
  EXPECT_EQ(w->durable_through(), 4u);
  auto rep = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->messages.size(), 4u);
  EXPECT_TRUE(rep->torn_tails.empty());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(*read_content(rep->messages[i]), m.trace + m.bodies[i]);
  }
}

TEST(SegmentWriter, SyncFailureFailsBatchAndRotates) {
  TempDir tmp;
  Messages m(4);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  w->append_message(m.rec(0));
  w->append_message(m.rec(1));
  const std::string first = w->segment_path();
  SegmentWriter::Batch b = w->start_batch();
  ASSERT_TRUE(w->on_write_done(pwritev_once(b)).ok());
  w->append_message(m.rec(2));  // waits for the next batch
  absl::Status st = w->on_sync_done(-EIO);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("fdatasync"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find(first), std::string_view::npos) << st;
  EXPECT_EQ(w->failed_through(), 2u);
  EXPECT_EQ(w->durable_through(), 0u);
  EXPECT_FALSE(w->in_flight());
  EXPECT_NE(w->segment_path(), first);
  // The waiting record goes to the fresh segment, from its start.
  ASSERT_TRUE(w->can_start_batch());
  SegmentWriter::Batch b2 = w->start_batch();
  EXPECT_EQ(b2.offset, 0u);
  ASSERT_TRUE(w->on_write_done(pwritev_once(b2)).ok());
  ASSERT_TRUE(w->on_sync_done(fdatasync_res(b2.fd)).ok());
  EXPECT_EQ(w->durable_through(), 3u);
}

TEST(SegmentWriter, WriteErrorFailsBatch) {
  TempDir tmp;
  Messages m(3);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  w->append_message(m.rec(0));
  w->start_batch();
  auto r = w->on_write_done(-ENOSPC);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("writev"), std::string_view::npos);
  EXPECT_EQ(w->failed_through(), 1u);
  EXPECT_TRUE(w->on_sync_done(-ECANCELED).ok());  // the linked sync
  w->append_message(m.rec(1));
  ASSERT_TRUE(flush_all(*w).ok());
  EXPECT_EQ(w->durable_through(), 2u);
}

TEST(SegmentWriter, CompletionsOutOfStateAreErrors) {
  TempDir tmp;
  auto w = open_writer(shard_dir(tmp.path(), 0));
  EXPECT_FALSE(w->on_write_done(10).ok());
  EXPECT_FALSE(w->on_sync_done(0).ok());
  EXPECT_TRUE(w->start_batch().iov.empty());
}

TEST(SegmentWriter, RotatesPastSegmentBytesBetweenBatches) {
  TempDir tmp;
  Messages m(20, 1000);
  WriterOptions o;
  o.segment_bytes = 4096;
  auto w = open_writer(shard_dir(tmp.path(), 0), o);
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i) {
    w->append_message(m.rec(i));
    paths.push_back(w->segment_path());
    ASSERT_TRUE(flush_all(*w).ok());
  }
  EXPECT_EQ(w->durable_through(), 20u);
  auto segs = list_segments(shard_dir(tmp.path(), 0));
  ASSERT_TRUE(segs.ok());
  EXPECT_GE(segs->size(), 4u);
  auto rep = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->messages.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(*read_content(rep->messages[i]), m.trace + m.bodies[i]);
  }
}

TEST(SegmentWriter, BatchesAreBoundedByMaxRecords) {
  TempDir tmp;
  Messages m(10);
  WriterOptions o;
  o.max_batch_records = 4;
  auto w = open_writer(shard_dir(tmp.path(), 0), o);
  for (int i = 0; i < 10; ++i) {
    w->append_message(m.rec(i));
  }
  ASSERT_TRUE(flush_batch(*w).ok());
  EXPECT_EQ(w->durable_through(), 4u);
  ASSERT_TRUE(flush_all(*w).ok());
  EXPECT_EQ(w->durable_through(), 10u);
  EXPECT_EQ(live_count(tmp.path()), 10u);
}

TEST(SegmentWriter, BigBatchStaysWithinIovMax) {
  TempDir tmp;
  Messages m(1200, 64);
  WriterOptions o;
  o.max_batch_records = 5000;
  auto w = open_writer(shard_dir(tmp.path(), 0), o);
  for (int i = 0; i < 1200; ++i) {
    w->append_message(m.rec(i));
  }
  SegmentWriter::Batch b = w->start_batch();
  EXPECT_LE(b.iov.size(), static_cast<size_t>(IOV_MAX));
  ASSERT_TRUE(w->on_write_done(pwritev_once(b)).ok());
  ASSERT_TRUE(w->on_sync_done(fdatasync_res(b.fd)).ok());
  ASSERT_TRUE(flush_all(*w).ok());
  EXPECT_EQ(w->durable_through(), 1200u);
  EXPECT_EQ(live_count(tmp.path()), 1200u);
}

// durable_messages() says where each message record of the last durable
// batch lies: read back from there, it is that message, checksum and all
// (the engine drops bodies and reads them back this way).
TEST(SegmentWriter, DurableMessagesSayWhereRecordsAre) {
  TempDir tmp;
  Messages m(12, 700);
  WriterOptions o;
  o.segment_bytes = 2048;  // rotates before every batch of three
  auto w = open_writer(shard_dir(tmp.path(), 0), o);
  std::set<uint64_t> segments;
  for (int i = 0; i < 12; i += 3) {
    std::vector<uint64_t> tickets;
    for (int j = i; j < i + 3; ++j) {
      tickets.push_back(w->append_message(m.rec(j)));
      RecipientStateRecord s;  // state records are not placements
      s.queue_id = m.ids[j];
      w->append_state(s);
    }
    ASSERT_TRUE(flush_batch(*w).ok());
    auto placed = w->durable_messages();
    ASSERT_EQ(placed.size(), 3u);
    for (int k = 0; k < 3; ++k) {
      const Placement& p = placed[k];
      EXPECT_EQ(p.ticket, tickets[k]);
      EXPECT_EQ(p.segment, w->segment_number());
      segments.insert(p.segment);
      std::string rec(p.size, '\0');
      int fd = ::open(w->segment_path().c_str(), O_RDONLY);
      ASSERT_EQ(::pread(fd, rec.data(), rec.size(), static_cast<off_t>(p.offset)),
                static_cast<ssize_t>(rec.size()));
      ::close(fd);
      DecodedRecord d = decode_record(rec);
      ASSERT_EQ(d.status, DecodeStatus::kRecord);
      EXPECT_EQ(d.size, p.size);
      EXPECT_EQ(d.message.queue_id, m.ids[i + k]);
      EXPECT_EQ(d.content, m.trace + m.bodies[i + k]);
    }
  }
  EXPECT_GE(segments.size(), 3u);
  // The writer's fd reads too: that is how the engine reads the open segment.
  char head[kHeaderSize];
  EXPECT_EQ(::pread(w->segment_fd(), head, sizeof head, 0), static_cast<ssize_t>(sizeof head));
}

TEST(SegmentWriter, AFailedBatchPlacesNothing) {
  TempDir tmp;
  Messages m(2);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  w->append_message(m.rec(0));
  ASSERT_TRUE(flush_batch(*w).ok());
  EXPECT_EQ(w->durable_messages().size(), 1u);
  w->append_message(m.rec(1));
  EXPECT_FALSE(w->start_batch().iov.empty());
  EXPECT_TRUE(w->durable_messages().empty()) << "valid only until the next batch starts";
  EXPECT_FALSE(w->on_write_done(-EIO).ok());
  EXPECT_TRUE(w->durable_messages().empty());
}

}  // namespace
}  // namespace ringmta::spool

namespace ringmta::spool {
namespace {

using testing::flush_all;

// State records written through the writer are applied by recovery: a
// message whose recipients are all final is no longer live, a deferred one
// keeps its attempts and next retry.
TEST(SegmentWriterState, StateRecordsReachRecovery) {
  testing::TempDir tmp;
  Messages m(2);
  auto w = open_writer(shard_dir(tmp.path(), 0));
  w->append_message(m.rec(0));
  w->append_message(m.rec(1));
  ASSERT_TRUE(flush_all(*w).ok());
  for (uint32_t r = 0; r < 2; ++r) {
    RecipientStateRecord done;
    done.queue_id = m.ids[0];
    done.rcpt_index = r;
    done.state.status = RcptStatus::kDelivered;
    done.state.attempts = 1;
    w->append_state(done);
  }
  RecipientStateRecord later;
  later.queue_id = m.ids[1];
  later.rcpt_index = 1;
  later.state.status = RcptStatus::kDeferred;
  later.state.attempts = 2;
  later.state.next_retry = kNow + absl::Seconds(600);
  const uint64_t ticket = w->append_state(later);
  ASSERT_TRUE(flush_all(*w).ok());
  EXPECT_GE(w->durable_through(), ticket);

  auto rep = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(rep.ok()) << rep.status();
  ASSERT_EQ(rep->messages.size(), 1u);
  const RecoveredMessage& msg = rep->messages[0];
  EXPECT_EQ(msg.queue_id, m.ids[1]);
  ASSERT_EQ(msg.rcpt_state.size(), 2u);
  EXPECT_EQ(msg.rcpt_state[0].status, RcptStatus::kPending);
  EXPECT_EQ(msg.rcpt_state[1].status, RcptStatus::kDeferred);
  EXPECT_EQ(msg.rcpt_state[1].attempts, 2u);
  EXPECT_EQ(msg.rcpt_state[1].next_retry, kNow + absl::Seconds(600));
}

}  // namespace
}  // namespace ringmta::spool
