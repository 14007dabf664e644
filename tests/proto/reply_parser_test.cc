// tests/proto/reply_parser_test.cc — server replies, whole and in pieces.
#include "proto/reply_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/proto/fragments.h"

namespace ringmta::proto {
namespace {

struct Parsed {
  std::vector<Reply> replies;
  std::vector<std::string> lines;
  std::string error;
};

Parsed parse_all(std::string_view in, size_t fragment) {
  Parsed out;
  ReplyParser p;
  for (std::string_view piece : testing::split(in, fragment)) {
    while (!piece.empty()) {
      size_t used = 0;
      ReplyParser::Status s = p.parse(piece, &used);
      piece.remove_prefix(used);
      if (s == ReplyParser::Status::kError) {
        out.error = std::string(p.error());
        return out;
      }
      if (s == ReplyParser::Status::kReply) {
        out.replies.push_back(p.reply());
        out.lines.emplace_back(p.lines());
      }
    }
  }
  return out;
}

Parsed parse(std::string_view in) {
  Parsed whole = parse_all(in, 0);
  for (size_t size : testing::kFragmentSizes) {
    Parsed part = parse_all(in, size);
    EXPECT_EQ(part.error, whole.error) << size;
    EXPECT_EQ(part.lines, whole.lines) << size;
    EXPECT_EQ(part.replies.size(), whole.replies.size()) << size;
  }
  return whole;
}

TEST(ReplyParserTest, SingleAndMultiLine) {
  Parsed p = parse(
      "220 mx.test ESMTP\r\n250-mx.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n"
      "550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n250\r\n354 go\n");
  ASSERT_EQ(p.replies.size(), 5u);
  EXPECT_EQ(p.replies[0].code, 220);
  EXPECT_EQ(p.replies[0].text, "mx.test ESMTP");
  EXPECT_EQ(p.lines[1], "mx.test\nPIPELINING\nSIZE 10\n");
  EXPECT_EQ(p.replies[1].text, "mx.test PIPELINING SIZE 10");
  EXPECT_EQ(p.replies[2].enhanced, "5.1.1");
  EXPECT_EQ(p.replies[2].text, "first second third");
  EXPECT_EQ(format_reply(p.replies[2]), "550 5.1.1 first second third");
  EXPECT_EQ(p.replies[3].code, 250);
  EXPECT_EQ(p.replies[3].text, "");
  EXPECT_EQ(p.replies[4].code, 354);  // bare LF ends a line too
}

TEST(ReplyParserTest, EnhancedCodeOnlyWhenItsClassMatches) {
  Parsed p = parse("250 5.1.1 odd\r\n451 4.3.0\r\n250 2.1.0x y\r\n550 5.1.1234 z\r\n");
  ASSERT_EQ(p.replies.size(), 4u);
  EXPECT_EQ(p.replies[0].enhanced, "");
  EXPECT_EQ(p.replies[0].text, "5.1.1 odd");
  EXPECT_EQ(p.replies[1].enhanced, "4.3.0");
  EXPECT_EQ(p.replies[1].text, "");
  EXPECT_EQ(p.replies[2].enhanced, "");
  EXPECT_EQ(p.replies[3].enhanced, "");
}

TEST(ReplyParserTest, Malformed) {
  EXPECT_EQ(parse("hello\r\n").error, "malformed reply code");
  EXPECT_EQ(parse("150 x\r\n").error, "malformed reply code");
  EXPECT_EQ(parse("250x\r\n").error, "malformed reply separator");
  EXPECT_EQ(parse("250-a\r\n251 b\r\n").error, "reply code changed within a multi-line reply");
  EXPECT_EQ(parse("250 " + std::string(5000, 'x')).error, "reply line too long");
  EXPECT_EQ(parse("250 " + std::string(4092, 'x') + "\r\n").error, "");
  EXPECT_EQ(parse("250 " + std::string(4093, 'x') + "\r\n").error, "reply line too long");
}

TEST(ReplyParserTest, TextIsBounded) {
  std::string in;
  for (int i = 0; i < 99; ++i) {
    in += "250-" + std::string(100, 'a') + "\r\n";
  }
  in += "250 end\r\n";
  Parsed p = parse(in);
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_LE(p.lines[0].size(), ReplyParser::kMaxText);
  EXPECT_LE(p.replies[0].text.size(), ReplyParser::kMaxText);
}

TEST(ReplyParserTest, EhloKeywords) {
  EhloCapabilities c = parse_ehlo_keywords(
      "mx.test SIZE PIPELINING\nsize 2048\nchunking\n8BITMIME\nSmtpUtf8\nSTARTTLS\n"
      "AUTH PLAIN\nPIPELINING2\n");
  EXPECT_TRUE(c.chunking && c.eightbitmime && c.smtputf8 && c.starttls && c.size);
  EXPECT_FALSE(c.pipelining);  // the server name line and PIPELINING2 do not count
  EXPECT_EQ(c.max_size, 2048u);
  c = parse_ehlo_keywords("mx.test\nSIZE x\n");
  EXPECT_TRUE(c.size);
  EXPECT_EQ(c.max_size, 0u);
}

}  // namespace
}  // namespace ringmta::proto
