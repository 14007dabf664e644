#include "spool/retire_list.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/recovery.h"
#include "spool/segment_writer.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using testing::flush_all;
using testing::sample_body;
using testing::sample_envelope;
using testing::TempDir;

const absl::Time kNow = absl::FromUnixMillis(1732269296123);

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void spit(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// write_one stores one message in a new segment of shard dir n; returns
// the segment's path.
std::string write_one(const std::string& root, unsigned shard, const std::string& id,
                      const std::string& body) {
  auto w = SegmentWriter::open(shard_dir(root, shard), {});
  EXPECT_TRUE(w.ok());
  proto::Envelope env = sample_envelope(1);
  (*w)->append_message(MessageRecord{id, kNow, &env, "", body});
  EXPECT_TRUE(flush_all(**w).ok());
  return (*w)->segment_path();
}

TEST(RetireList, EntriesMustBeSegmentsInShardDirs) {
  EXPECT_TRUE(valid_entry("shard-0/seg-0000000000000001.log"));
  EXPECT_TRUE(valid_entry("shard-12/seg-00000000000000FF.log"));
  EXPECT_FALSE(valid_entry("shard-0/../lock"));
  EXPECT_FALSE(valid_entry("../shard-0/seg-0000000000000001.log"));
  EXPECT_FALSE(valid_entry("shard-0/seg-1.log"));
  EXPECT_FALSE(valid_entry("seg-0000000000000001.log"));
  EXPECT_FALSE(valid_entry("lock"));
  EXPECT_FALSE(retire_segments("/spool", {"/elsewhere/shard-0/seg-0000000000000001.log"}).ok());
}

TEST(RetireList, DeletesTheGroupAndLeavesNoList) {
  TempDir tmp;
  QueueIdGenerator gen(0);
  std::string a = write_one(tmp.path(), 0, gen.next(kNow), sample_body(1));
  std::string b = write_one(tmp.path(), 3, gen.next(kNow), sample_body(2));
  std::string keep = write_one(tmp.path(), 1, gen.next(kNow), sample_body(3));
  ASSERT_TRUE(retire_segments(tmp.path(), {a, b}).ok());
  EXPECT_FALSE(exists(a));
  EXPECT_FALSE(exists(b));
  EXPECT_TRUE(exists(keep));
  EXPECT_FALSE(exists(tmp.path() + "/" + kRetireListName));
  auto r = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->messages.size(), 1u);
}

// A crash after the list was renamed into place but before every unlink:
// the group already counts as deleted. Readers skip it; the next start
// finishes the deletion before it scans.
TEST(RetireList, APendingListIsHonouredThenFinished) {
  TempDir tmp;
  QueueIdGenerator gen(0);
  std::string a = write_one(tmp.path(), 0, gen.next(kNow), sample_body(1));
  std::string b = write_one(tmp.path(), 2, gen.next(kNow), sample_body(2));
  std::string keep = write_one(tmp.path(), 1, gen.next(kNow), sample_body(3));
  // a is already gone, b is not: the crash came between the two unlinks.
  ASSERT_EQ(::unlink(a.c_str()), 0);
  spit(tmp.path() + "/" + kRetireListName,
       "shard-0/seg-0000000000000001.log\nshard-2/seg-0000000000000001.log\n");

  auto ro = recover(tmp.path(), RecoverMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(ro->messages.size(), 1u) << "the listed segment b is skipped";
  EXPECT_TRUE(exists(b)) << "read-only changes nothing";

  auto rep = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(rep.ok()) << rep.status();
  EXPECT_EQ(rep->segments_retired, 1u);
  EXPECT_EQ(rep->messages.size(), 1u);
  EXPECT_FALSE(exists(b));
  EXPECT_TRUE(exists(keep));
  EXPECT_FALSE(exists(tmp.path() + "/" + kRetireListName));
  ASSERT_EQ(rep->segments.size(), 1u);
  EXPECT_EQ(rep->segments[0], keep);
}

TEST(RetireList, AnUnrenamedTempListIsDropped) {
  TempDir tmp;
  QueueIdGenerator gen(0);
  std::string a = write_one(tmp.path(), 0, gen.next(kNow), sample_body(1));
  spit(tmp.path() + "/" + kRetireListName + ".tmp", "shard-0/seg-0000000000000001.log\n");
  auto rep = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(exists(a)) << "the deletion never began";
  EXPECT_EQ(rep->messages.size(), 1u);
  EXPECT_FALSE(exists(tmp.path() + "/" + std::string(kRetireListName) + ".tmp"));
}

TEST(RetireList, ACorruptListStopsRecovery) {
  TempDir tmp;
  spit(tmp.path() + "/" + kRetireListName, "shard-0/../../etc/passwd\n");
  auto rep = recover(tmp.path(), RecoverMode::kRepair);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.status().message().find("not a segment name"), std::string_view::npos);
}

}  // namespace
}  // namespace ringmta::spool
