// tests/tools/postfix/postfix_queue_file_test.cc — the Postfix queue file
// reader against files a real Postfix 3.7 wrote (testdata/, made by
// tests/integration/test_import_postfix_queue.py's setup: deferred messages
// towards a closed relayhost port) and against hand-built records (pointers,
// truncation, loops, bounds).
#include "tools/postfix/postfix_queue_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ringmta::postfix {
namespace {

std::string testdata(const std::string& name) {
  const char* dir = std::getenv("POSTFIX_TESTDATA");
  std::ifstream in(std::string(dir ? dir : "tests/tools/postfix/testdata") + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// rec: one record, its length as Postfix writes it (7 bits a octet, low first).
std::string rec(char type, std::string_view data) {
  std::string out(1, type);
  size_t len = data.size();
  do {
    unsigned char b = len & 0x7f;
    len >>= 7;
    if (len != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (len != 0);
  out.append(data);
  return out;
}

TEST(PostfixQueueFile, ThreeRecipientsLongLineFromRealPostfix) {
  const std::string f = testdata("3AB4EA7206F");
  ASSERT_FALSE(f.empty());
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(f, "3AB4EA7206F");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->queue_id, "3AB4EA7206F");
  EXPECT_EQ(m->sender, "alice@example.org");
  EXPECT_EQ(m->recipients, (std::vector<std::string>{"a@dest.example", "b@dest.example", "c@other.example"}));
  EXPECT_EQ(m->done_recipients, 0u);
  EXPECT_EQ(m->arrival_us, int64_t{1796417133229713});
  EXPECT_EQ(m->content.rfind("Received: from [127.0.0.1]", 0), 0u);
  EXPECT_NE(m->content.find("\r\nSubject: three\r\n"), std::string::npos);
  EXPECT_NE(m->content.find("\r\n\r\nHello\r\n.leading dot\r\n" + std::string(3000, 'x') + "\r\nend\r\n"),
            std::string::npos);
  EXPECT_EQ(m->content.substr(m->content.size() - 5), "end\r\n");
  EXPECT_EQ(m->content.find("\n\n"), std::string::npos);
}

TEST(PostfixQueueFile, NullSenderFromRealPostfix) {
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(testdata("3DBA3A72070"), "3DBA3A72070");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sender, "");
  EXPECT_EQ(m->recipients, std::vector<std::string>{"d@dest.example"});
  EXPECT_NE(m->content.find("\r\n\r\nbounce body\r\n"), std::string::npos);
}

TEST(PostfixQueueFile, DeliveredRecipientIsSkipped) {
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(testdata("B892BA721DE"), "B892BA721DE");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sender, "bob@example.org");
  EXPECT_EQ(m->recipients, std::vector<std::string>{"e@dest.example"});
  EXPECT_EQ(m->done_recipients, 1u);
}

TEST(PostfixQueueFile, EveryTruncationIsAnError) {
  const std::string f = testdata("3DBA3A72070");
  for (size_t n = 0; n < f.size(); ++n) {
    EXPECT_FALSE(parse_postfix_queue_file(std::string_view(f).substr(0, n), "x").ok()) << n;
  }
}

TEST(PostfixQueueFile, FollowsPointersAndSkipsCancelled) {
  // Envelope with a pointer to recipients appended at the end, which point back.
  std::string head = rec('C', "0 0 0 0 0") + rec('T', "1700000000 5") + rec('S', "s@x.example") + rec('p', "0");
  const std::string ptr_placeholder = rec('p', "               ");
  std::string rest = rec('R', "r1@x.example") + rec('M', "") + rec('N', "Subject: t") + rec('N', "") + rec('L', "ab") +
                     rec('N', "cd") + rec('w', "pad") + rec('X', "") + rec('E', "");
  const size_t after_ptr = head.size() + ptr_placeholder.size();
  const size_t appended = after_ptr + rest.size();
  std::string back = std::to_string(after_ptr);
  back.insert(0, 15 - back.size(), ' ');
  std::string tail = rec('R', "r2@x.example") + rec('/', "gone@x.example") + rec('p', back);
  std::string to = std::to_string(appended);
  to.insert(0, 15 - to.size(), ' ');
  const std::string file = head + rec('p', to) + rest + tail;
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(file, "Q");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->recipients, (std::vector<std::string>{"r2@x.example", "r1@x.example"}));
  EXPECT_EQ(m->done_recipients, 1u);
  EXPECT_EQ(m->arrival_us, int64_t{1700000000000005});
  EXPECT_EQ(m->content, "Subject: t\r\n\r\nabcd\r\n");
}

TEST(PostfixQueueFile, PointerLoopEnds) {
  const std::string file = rec('S', "") + rec('p', "0000000000000002");  // points at itself
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(file, "Q");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("pointer loop"), std::string::npos) << m.status();
}

TEST(PostfixQueueFile, PointerLoopOverALargeRecordEndsEarly) {
  // M, a 100000-octet line, then a pointer back to that line: without a
  // bound on what is kept, the loop would collect size/2 copies of it.
  const std::string head = rec('T', "1 0") + rec('S', "") + rec('M', "");
  std::string back = std::to_string(head.size());
  const std::string file = head + rec('N', std::string(100000, 'a')) + rec('p', back);
  absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(file, "Q");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("a pointer loop"), std::string::npos) << m.status();
}

TEST(PostfixQueueFile, BadRecordsNameTheOffset) {
  const std::string base = rec('T', "1 0") + rec('S', "");
  struct Case {
    std::string file;
    std::string want;
  } cases[] = {
      {base + std::string("R\xff\xff\xff\xff\xff\x01", 7), "offset 7: record length longer than 5 octets"},
      {base + "R\x7f" + "abc", "offset 7: record of 127 octets runs past"},
      {base + rec('p', "99999"), "offset 7: pointer to offset 99999"},
      {base + rec('p', "x"), "offset 7: malformed pointer"},
      {base + rec('E', ""), "offset 7: end record before the message content"},
      {base + rec('M', "") + rec('S', "x"), "offset 9: record type 'S' in the message content"},
      {rec('T', "abc"), "offset 0: malformed arrival time"},
      {base + rec('X', ""), "offset 7: extracted segment before"},
      {base + rec('R', ""), "offset 7: empty recipient"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PostfixMessage> m = parse_postfix_queue_file(c.file, "Q");
    ASSERT_FALSE(m.ok()) << c.want;
    EXPECT_NE(m.status().message().find(c.want), std::string::npos) << m.status() << " want " << c.want;
  }
}

}  // namespace
}  // namespace ringmta::postfix
