// Runs the built ringmta-spool (its path comes from meson in
// RINGMTA_SPOOL_TOOL) against a spool written by the SegmentWriter.
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/record.h"
#include "spool/segment_writer.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::flush_all;
using testing::TempDir;

struct ToolRun {
  int status = -1;
  std::string out;
};

ToolRun run_tool(const std::string& args) {
  const char* tool = std::getenv("RINGMTA_SPOOL_TOOL");
  ToolRun r;
  if (tool == nullptr) {
    ADD_FAILURE() << "RINGMTA_SPOOL_TOOL is not set (run through meson test)";
    return r;
  }
  std::string cmd = std::string(tool) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen " << cmd;
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, p)) > 0) {
    r.out.append(buf, n);
  }
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class ToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QueueIdGenerator gen(0);
    const absl::Time t = absl::FromUnixMillis(1732269296123);  // 2024-11-22T09:54:56.123Z
    _envs[0].sender = "alice@example.test";
    _envs[0].recipients = {"bob@dest.test", "carol@dest.test"};
    _envs[0].helo = "client.example.test";
    _envs[0].client_addr = "192.0.2.7";
    _envs[1].sender = "";  // a bounce
    _envs[1].recipients = {"dave@dest.test"};
    _envs[1].body = proto::BodyType::k8BitMime;
    auto w = SegmentWriter::open(shard_dir(_tmp.path(), 0), {});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 2; ++i) {
      _ids[i] = gen.next(t);
      (*w)->append_message(MessageRecord{_ids[i], t, &_envs[i], _trace, _bodies[i]});
    }
    ASSERT_TRUE(flush_all(**w).ok());
  }

  TempDir _tmp;
  proto::Envelope _envs[2];
  std::string _ids[2];
  std::string _trace = "Received: from client.example.test\r\n";
  std::string _bodies[2] = {"Subject: hi\r\n\r\nhello bob\r\n", "Subject: bounce\r\n\r\nsorry\r\n"};
};

TEST_F(ToolTest, Lists) {
  ToolRun r = run_tool(_tmp.path());
  EXPECT_EQ(r.status, 0) << r.out;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("QUEUE_ID"));
  EXPECT_THAT(lines[1], StartsWith(_ids[0]));
  EXPECT_THAT(lines[1], HasSubstr("2024-11-22T09:54:56.123Z"));
  EXPECT_THAT(lines[1], HasSubstr("<alice@example.test>  2"));
  EXPECT_THAT(lines[1],
              HasSubstr(std::to_string(_trace.size() + _bodies[0].size()) + "  <alice"));
  EXPECT_THAT(lines[2], StartsWith(_ids[1]));
  EXPECT_THAT(lines[2], HasSubstr("<>  1"));
  EXPECT_EQ(lines[3], "2 messages");
}

TEST_F(ToolTest, ShowsOneMessage) {
  // Mark carol delivered: she shows with her state.
  RecipientStateRecord s;
  s.queue_id = _ids[0];
  s.rcpt_index = 1;
  s.state.status = RcptStatus::kDelivered;
  std::string rec = encode_recipient_state_record(s);
  FILE* f = ::fopen((shard_dir(_tmp.path(), 0) + "/" + segment_file_name(9)).c_str(), "w");
  ASSERT_NE(f, nullptr);
  ::fwrite(rec.data(), 1, rec.size(), f);
  ::fclose(f);

  ToolRun r = run_tool(_tmp.path() + " " + _ids[0]);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("queue_id: " + _ids[0] + "\n"));
  EXPECT_THAT(r.out, HasSubstr("sender: <alice@example.test>\n"));
  EXPECT_THAT(r.out, HasSubstr("recipient: <bob@dest.test> pending\n"));
  EXPECT_THAT(r.out, HasSubstr("recipient: <carol@dest.test> delivered\n"));
  EXPECT_THAT(r.out, HasSubstr("arrival: 2024-11-22T09:54:56.123Z\n"));
  EXPECT_THAT(r.out, HasSubstr("helo: client.example.test\n"));
  EXPECT_THAT(r.out, HasSubstr("client: 192.0.2.7\n"));
  // A blank line, then the content exactly.
  const std::string content = _trace + _bodies[0];
  EXPECT_THAT(r.out, HasSubstr("\n\n" + content));
  EXPECT_EQ(r.out.substr(r.out.size() - content.size()), content);

  ToolRun listed = run_tool(_tmp.path());
  EXPECT_THAT(listed.out, HasSubstr("<alice@example.test>  1\n"));
}

TEST_F(ToolTest, UnknownQueueIdExitsOne) {
  ToolRun r = run_tool(_tmp.path() + " 0000000000000000");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.out, HasSubstr("no message 0000000000000000"));
}

TEST_F(ToolTest, MissingSpoolNamesTheProblem) {
  ToolRun r = run_tool(_tmp.path() + "/nope");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.out, HasSubstr("no such spool directory: " + _tmp.path() + "/nope"));
}

TEST_F(ToolTest, HelpAndUsage) {
  ToolRun h = run_tool("--help");
  EXPECT_EQ(h.status, 0);
  EXPECT_THAT(h.out, HasSubstr("usage: ringmta-spool"));
  ToolRun none = run_tool("");
  EXPECT_EQ(none.status, 2);
  EXPECT_THAT(none.out, HasSubstr("usage:"));
}

}  // namespace
}  // namespace ringmta::spool
