#include "spool/recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/segment_writer.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using testing::flush_all;
using testing::sample_body;
using testing::sample_envelope;
using testing::TempDir;

const absl::Time kNow = absl::FromUnixMillis(1732269296123);
const std::string kTrace = "Received: from client.example.test\r\n";

struct Written {
  std::string id;
  proto::Envelope env;
  std::string body;
};

// write_messages appends n messages to a new segment in dir through the
// writer, one batch per `per_batch`; returns them.
std::vector<Written> write_messages(const std::string& dir, QueueIdGenerator& gen, int n,
                                    int first = 0, int per_batch = 3) {
  std::vector<Written> out(n);
  auto w = SegmentWriter::open(dir, {});
  EXPECT_TRUE(w.ok()) << w.status();
  for (int i = 0; i < n; ++i) {
    out[i] = {gen.next(kNow + absl::Milliseconds(first + i)), sample_envelope(first + i),
              sample_body(first + i)};
    (*w)->append_message(MessageRecord{out[i].id, kNow, &out[i].env, kTrace, out[i].body});
    if ((i + 1) % per_batch == 0) {
      EXPECT_TRUE(flush_all(**w).ok());
    }
  }
  EXPECT_TRUE(flush_all(**w).ok());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, std::string_view data, bool append = false) {
  std::ofstream f(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_size);
}

TEST(Recovery, MissingRootIsAnError) {
  auto r = recover("/nonexistent/spool/root", RecoverMode::kReadOnly);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/spool/root"), std::string_view::npos);
}

TEST(Recovery, EmptyRootIsAnEmptySpool) {
  TempDir tmp;
  auto r = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_scanned, 0u);
  EXPECT_TRUE(r->messages.empty());
}

TEST(Recovery, ManyMessagesAcrossShardDirs) {
  TempDir tmp;
  // Last run had 3 shards (0, 1, 2); shard 1 wrote two segments.
  QueueIdGenerator g0(0), g1(1), g2(2);
  std::vector<Written> all;
  for (auto* part : {&g0, &g1, &g1, &g2}) {
    unsigned shard = part == &g0 ? 0 : part == &g1 ? 1 : 2;
    auto w = write_messages(shard_dir(tmp.path(), shard), *part, 40,
                            static_cast<int>(all.size()));
    all.insert(all.end(), w.begin(), w.end());
  }
  // Noise that recovery must ignore.
  ::mkdir((tmp.path() + "/not-a-shard").c_str(), 0700);
  spit(shard_dir(tmp.path(), 0) + "/README", "hello");
  auto r = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->segments_scanned, 4u);
  EXPECT_EQ(r->highest_segment, (std::map<unsigned, uint64_t>{{0, 1}, {1, 2}, {2, 1}}));
  EXPECT_EQ(r->records, all.size());
  EXPECT_TRUE(r->torn_tails.empty());
  ASSERT_EQ(r->messages.size(), all.size());
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::string max_id;
  for (size_t i = 0; i < all.size(); ++i) {
    const RecoveredMessage& m = r->messages[i];
    EXPECT_EQ(m.queue_id, all[i].id);
    EXPECT_EQ(m.arrival, kNow);
    EXPECT_EQ(m.envelope.sender, all[i].env.sender);
    EXPECT_EQ(m.envelope.recipients, all[i].env.recipients);
    EXPECT_EQ(m.envelope.auth_user, all[i].env.auth_user);
    EXPECT_EQ(m.content_size, kTrace.size() + all[i].body.size());
    ASSERT_EQ(m.rcpt_state.size(), all[i].env.recipients.size());
    EXPECT_EQ(m.rcpt_state[0].status, RcptStatus::kPending);
    auto content = read_content(m);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(*content, kTrace + all[i].body);
    max_id = std::max(max_id, all[i].id);
  }
  EXPECT_EQ(r->max_queue_id, max_id);
  // The engine now runs with 1 shard: a new writer in shard-0 adds on; the
  // other directories are still read.
  write_messages(shard_dir(tmp.path(), 0), g0, 5, 1000);
  auto r2 = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->messages.size(), all.size() + 5);
}

// Cut the last record at every length: every earlier message survives, the
// tail is reported and (kRepair) cut, and a new writer appends fine after.
TEST(Recovery, TornTailAtEveryCutPoint) {
  TempDir tmp;
  const std::string dir = shard_dir(tmp.path(), 0);
  QueueIdGenerator gen(0);
  auto msgs = write_messages(dir, gen, 4);
  auto segs = list_segments(dir);
  ASSERT_TRUE(segs.ok());
  ASSERT_EQ(segs->size(), 1u);
  const std::string seg = segs->front().second;
  // The file is exactly the records (no preallocation left at close).
  const std::string whole = slurp(seg);
  auto full = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->messages.size(), 4u);
  // The last record starts where the third one's content ends.
  const uint64_t cut_from = full->messages[2].content_offset + full->messages[2].content_size;
  ASSERT_LT(cut_from, whole.size());
  for (uint64_t len = cut_from; len < whole.size(); ++len) {
    SCOPED_TRACE(len);
    TempDir t2;
    const std::string d2 = shard_dir(t2.path(), 0);
    ASSERT_TRUE(make_dirs(d2, 0700).ok());
    const std::string s2 = d2 + "/" + segment_file_name(1);
    spit(s2, std::string_view(whole).substr(0, len));
    auto ro = recover(t2.path(), RecoverMode::kReadOnly);
    ASSERT_TRUE(ro.ok());
    EXPECT_EQ(ro->messages.size(), 3u);
    EXPECT_EQ(ro->torn_tails.size(), len == cut_from ? 0u : 1u);
    EXPECT_EQ(file_size(s2), len);  // read-only changes nothing
    auto rep = recover(t2.path(), RecoverMode::kRepair);
    ASSERT_TRUE(rep.ok());
    ASSERT_EQ(rep->messages.size(), 3u);
    if (len != cut_from) {
      ASSERT_EQ(rep->torn_tails.size(), 1u);
      EXPECT_EQ(rep->torn_tails[0].segment_path, s2);
      EXPECT_EQ(rep->torn_tails[0].offset, cut_from);
      EXPECT_EQ(rep->torn_tails[0].bytes, len - cut_from);
    }
    EXPECT_EQ(file_size(s2), cut_from);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(*read_content(rep->messages[i]), kTrace + msgs[i].body);
    }
    // Appending afterwards works and recovery sees both.
    write_messages(d2, gen, 2, 100);
    auto again = recover(t2.path(), RecoverMode::kRepair);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->messages.size(), 5u);
    EXPECT_TRUE(again->torn_tails.empty());
  }
}

TEST(Recovery, FlippedByteStopsTheSegmentThere) {
  TempDir tmp;
  const std::string dir = shard_dir(tmp.path(), 0);
  QueueIdGenerator gen(0);
  write_messages(dir, gen, 5);
  const std::string seg = (*list_segments(dir)).front().second;
  auto full = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(full.ok());
  std::string data = slurp(seg);
  const uint64_t at = full->messages[3].content_offset + 7;  // inside the 4th body
  data[at] = static_cast<char>(data[at] ^ 0x20);
  spit(seg, data);
  auto r = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->messages.size(), 3u);
  ASSERT_EQ(r->torn_tails.size(), 1u);
  EXPECT_EQ(r->torn_tails[0].reason, "record checksum mismatch");
}

TEST(Recovery, PreallocatedZerosAreTheEnd) {
  TempDir tmp;
  const std::string dir = shard_dir(tmp.path(), 0);
  QueueIdGenerator gen(0);
  write_messages(dir, gen, 3);
  const std::string seg = (*list_segments(dir)).front().second;
  const uint64_t size = file_size(seg);
  // As after a crash: the preallocated zeros are still there.
  for (size_t zeros : {1, 5, 11, 12, 4096}) {
    SCOPED_TRACE(zeros);
    ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(size + zeros)), 0);
    auto ro = recover(tmp.path(), RecoverMode::kReadOnly);
    ASSERT_TRUE(ro.ok());
    EXPECT_EQ(ro->messages.size(), 3u);
    EXPECT_TRUE(ro->torn_tails.empty());
  }
  auto rep = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->torn_tails.empty());
  EXPECT_EQ(file_size(seg), size);  // the space is given back
}

TEST(Recovery, EmptySegmentsAreRemovedInRepair) {
  TempDir tmp;
  const std::string dir = shard_dir(tmp.path(), 0);
  { auto w = SegmentWriter::open(dir, {}); ASSERT_TRUE(w.ok()); }
  auto ro = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(ro->segments_scanned, 1u);
  EXPECT_EQ(ro->segments_removed, 0u);
  auto rep = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->segments_removed, 1u);
  EXPECT_TRUE(list_segments(dir)->empty());
  // The removed segment's number still counts: a new writer stays above it.
  EXPECT_EQ(rep->highest_segment, (std::map<unsigned, uint64_t>{{0, 1}}));
}

TEST(Recovery, RecipientStatesApply) {
  TempDir tmp;
  QueueIdGenerator gen(0);
  auto msgs = write_messages(shard_dir(tmp.path(), 0), gen, 3);
  auto state = [&](int m, uint32_t rcpt, RcptStatus s, uint32_t attempts, absl::Time next) {
    RecipientStateRecord r;
    r.queue_id = msgs[m].id;
    r.rcpt_index = rcpt;
    r.state = {s, attempts, next};
    return encode_recipient_state_record(r);
  };
  const absl::Time retry = kNow + absl::Seconds(600);
  // State records written later by the shard that owns these messages after
  // a shard count change: they live in another directory (shard-7).
  std::string recs;
  recs += state(0, 0, RcptStatus::kDelivered, 1, kNow);
  recs += state(0, 1, RcptStatus::kBounced, 1, kNow);   // message 0: all final
  recs += state(1, 0, RcptStatus::kDeferred, 1, kNow + absl::Seconds(300));
  recs += state(1, 0, RcptStatus::kDeferred, 2, retry);  // newer deferral wins
  recs += state(1, 1, RcptStatus::kDelivered, 1, kNow);
  recs += state(2, 9, RcptStatus::kDelivered, 1, kNow);  // no such recipient: ignored
  recs += state(2, 1, RcptStatus::kDelivered, 1, kNow);
  recs += state(2, 1, RcptStatus::kDeferred, 1, retry);  // final beats a late deferral
  ASSERT_TRUE(make_dirs(shard_dir(tmp.path(), 7), 0700).ok());
  spit(shard_dir(tmp.path(), 7) + "/" + segment_file_name(1), recs);
  auto r = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->messages.size(), 2u);
  const RecoveredMessage& m1 = r->messages[0];
  EXPECT_EQ(m1.queue_id, msgs[1].id);
  EXPECT_EQ(m1.rcpt_state[0].status, RcptStatus::kDeferred);
  EXPECT_EQ(m1.rcpt_state[0].attempts, 2u);
  EXPECT_EQ(m1.rcpt_state[0].next_retry, retry);
  EXPECT_EQ(m1.rcpt_state[1].status, RcptStatus::kDelivered);
  const RecoveredMessage& m2 = r->messages[1];
  EXPECT_EQ(m2.rcpt_state[0].status, RcptStatus::kPending);
  EXPECT_EQ(m2.rcpt_state[1].status, RcptStatus::kDelivered);
  EXPECT_EQ(r->max_queue_id, msgs[2].id);
}

TEST(Recovery, StateBeforeItsMessageStillApplies) {
  TempDir tmp;
  QueueIdGenerator gen(3);
  auto msgs = write_messages(shard_dir(tmp.path(), 3), gen, 1);
  RecipientStateRecord s;
  s.queue_id = msgs[0].id;
  for (uint32_t i = 0; i < 2; ++i) {
    s.rcpt_index = i;
    s.state.status = RcptStatus::kDelivered;
    ASSERT_TRUE(make_dirs(shard_dir(tmp.path(), 0), 0700).ok());
    spit(shard_dir(tmp.path(), 0) + "/" + segment_file_name(1), encode_recipient_state_record(s),
         /*append=*/true);
  }
  auto r = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->messages.empty());
  EXPECT_EQ(r->message_records, 1u);
}

// A recovered message says where its whole record is, so the engine can
// read it back later (and check its CRC) instead of keeping the content.
TEST(Recovery, MessagesSayWhereTheirRecordIs) {
  TempDir tmp;
  QueueIdGenerator gen(0);
  auto a = write_messages(shard_dir(tmp.path(), 0), gen, 4);
  auto b = write_messages(shard_dir(tmp.path(), 2), gen, 3, 10);
  auto r = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages.size(), 7u);
  ASSERT_EQ(r->segments.size(), 2u);
  for (const RecoveredMessage& m : r->messages) {
    ASSERT_LT(m.segment, r->segments.size());
    EXPECT_EQ(r->segments[m.segment], m.segment_path);
    std::string file = slurp(m.segment_path);
    ASSERT_LE(m.record_offset + m.record_size, file.size());
    DecodedRecord d = decode_record(std::string_view(file).substr(m.record_offset, m.record_size));
    ASSERT_EQ(d.status, DecodeStatus::kRecord);
    EXPECT_EQ(d.size, m.record_size);
    EXPECT_EQ(d.message.queue_id, m.queue_id);
    EXPECT_EQ(m.content_offset, m.record_offset + d.content_offset);
  }
}

TEST(Recovery, MergeState) {
  RecipientState pending, d1{RcptStatus::kDeferred, 1, kNow}, d2{RcptStatus::kDeferred, 2, kNow},
      done{RcptStatus::kDelivered, 1, kNow};
  EXPECT_EQ(merge_state(pending, d1).attempts, 1u);
  EXPECT_EQ(merge_state(d2, d1).attempts, 2u);
  EXPECT_EQ(merge_state(d1, d2).attempts, 2u);
  EXPECT_EQ(merge_state(done, d2).status, RcptStatus::kDelivered);
  EXPECT_EQ(merge_state(d2, done).status, RcptStatus::kDelivered);
}

}  // namespace
}  // namespace ringmta::spool
