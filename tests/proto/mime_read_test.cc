// tests/proto/mime_read_test.cc — reading MIME from strangers: entities
// and fields, Content-Type parameters (quoted, token, comments, folding,
// faults seen in the wild) and multipart splitting, with their bounds.
#include "proto/mime_read.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringmta::proto {
namespace {

TEST(MimeReadTest, SplitEntityAtTheEmptyLine) {
  MimeEntity e = split_entity("A: 1\r\nB: 2\r\n\tmore\r\n\r\nbody\r\n");
  EXPECT_EQ(e.headers, "A: 1\r\nB: 2\r\n\tmore\r\n");
  EXPECT_EQ(e.body, "body\r\n");
  e = split_entity("A: 1\nB: 2\n\nbody\n");  // bare LF
  EXPECT_EQ(e.headers, "A: 1\nB: 2\n");
  EXPECT_EQ(e.body, "body\n");
  e = split_entity("\r\nbody only\r\n");  // a part with no header section
  EXPECT_EQ(e.headers, "");
  EXPECT_EQ(e.body, "body only\r\n");
  e = split_entity("A: 1\r\nnot a field\r\nrest");  // RFC 5322 2.1: body from there
  EXPECT_EQ(e.headers, "A: 1\r\n");
  EXPECT_EQ(e.body, "not a field\r\nrest");
  e = split_entity("A: 1\r\nB: 2");  // no empty line at all
  EXPECT_EQ(e.headers, "A: 1\r\nB: 2");
  EXPECT_EQ(e.body, "");
}

TEST(MimeReadTest, HeaderFieldsKeepTheirFolding) {
  std::string_view section = " stray\r\nName : one\r\n two\r\njunk line\r\nX:\r\n";
  HeaderField f;
  ASSERT_TRUE(next_header_field(&section, &f));
  EXPECT_EQ(f.name, "Name");
  EXPECT_EQ(f.value, " one\r\n two");
  ASSERT_TRUE(next_header_field(&section, &f));
  EXPECT_EQ(f.name, "X");
  EXPECT_EQ(f.value, "");
  EXPECT_FALSE(next_header_field(&section, &f));
}

TEST(MimeReadTest, FieldBlocks) {
  std::string_view text = "\r\n\r\nA: 1\r\nB: 2\r\n\r\n  \r\nC: 3\nD: 4\n\n";
  std::string_view block;
  ASSERT_TRUE(next_field_block(&text, &block));
  EXPECT_EQ(block, "A: 1\r\nB: 2\r\n");
  ASSERT_TRUE(next_field_block(&text, &block));
  EXPECT_EQ(block, "C: 3\nD: 4\n");
  EXPECT_FALSE(next_field_block(&text, &block));
}

TEST(MimeReadTest, UnfoldValue) {
  EXPECT_EQ(unfold_value("  smtp; 550 5.1.1 <a@b>:\r\n    user\t unknown \r\n ", 998),
            "smtp; 550 5.1.1 <a@b>: user unknown");
  EXPECT_EQ(unfold_value("a\x01\x7f"
                         "b",
                         998),
            "ab");  // control octets dropped
  bool cut = true;
  EXPECT_EQ(unfold_value("abc   ", 3, &cut), "abc");
  EXPECT_FALSE(cut);  // only space was left out
  EXPECT_EQ(unfold_value("abc def", 4, &cut), "abc");
  EXPECT_TRUE(cut);
  // Never inside a UTF-8 sequence: "é" is two octets, "用" three.
  EXPECT_EQ(unfold_value("ab\xc3\xa9", 3, &cut), "ab");
  EXPECT_EQ(unfold_value("ab\xc3\xa9", 4, &cut), "ab\xc3\xa9");
  EXPECT_EQ(unfold_value("a\xe7\x94\xa8x", 3, &cut), "a");
  EXPECT_EQ(unfold_value("a\xe7\x94\xa8x", 4, &cut), "a\xe7\x94\xa8");
}

TEST(MimeReadTest, MediaType) {
  EXPECT_EQ(media_type(" Multipart/Report; report-type=delivery-status"), "multipart/report");
  EXPECT_EQ(media_type("(comment) text / plain (more)"), "text/plain");
  EXPECT_EQ(media_type("\r\n\tmessage/global-delivery-status"), "message/global-delivery-status");
  EXPECT_EQ(media_type("text"), "");
  EXPECT_EQ(media_type(""), "");
  EXPECT_EQ(media_type("/plain"), "");
  EXPECT_EQ(media_type(std::string(200, 'a') + "/b"), "");
}

TEST(MimeReadTest, MediaParam) {
  const std::string_view ct = "multipart/report; report-type=delivery-status;\r\n\tboundary=\"abc/def.1 2\"";
  EXPECT_EQ(media_param(ct, "boundary", 200), "abc/def.1 2");
  EXPECT_EQ(media_param(ct, "REPORT-TYPE", 200), "delivery-status");
  EXPECT_EQ(media_param(ct, "charset", 200), "");
  // Case, comments, quoted-pairs, token values, the first one given.
  EXPECT_EQ(media_param("Multipart/Mixed; BOUNDARY = (c) x1 (d); boundary=x2", "boundary", 200), "x1");
  EXPECT_EQ(media_param("a/b; boundary=\"q\\\"uo\\\\te\"", "boundary", 200), "q\"uo\\te");
  EXPECT_EQ(media_param("a/b; boundary=----=_Part_1_2.3", "boundary", 200), "----=_Part_1_2.3");
  // A missing ';' between parameters, a parameter without value, junk.
  EXPECT_EQ(media_param("a/b; report-type=x boundary=y", "boundary", 200), "y");
  EXPECT_EQ(media_param("a/b; flag; @@; boundary=z", "boundary", 200), "z");
  EXPECT_EQ(media_param("a/b; boundary*0=p1; boundary*1=p2", "boundary", 200), "");  // RFC 2231
  // Folding inside the quotes, an unterminated quote, an over-long value.
  EXPECT_EQ(media_param("a/b; boundary=\"ab\r\n cd\"", "boundary", 200), "ab cd");
  EXPECT_EQ(media_param("a/b; boundary=\"abc", "boundary", 200), "abc");
  EXPECT_EQ(media_param("a/b; boundary=" + std::string(300, 'x'), "boundary", 200), "");
  EXPECT_EQ(media_param("a/b; boundary=\"" + std::string(300, 'x') + "\"; c=d", "c", 200), "d");
  // No media type: the parameters still count.
  EXPECT_EQ(media_param("; boundary=k", "boundary", 200), "k");
  // Unterminated and nested comments.
  EXPECT_EQ(media_param("a/b; (x (y) z) boundary=k", "boundary", 200), "k");
  EXPECT_EQ(media_param("a/b; (x (y) z boundary=k", "boundary", 200), "");
}

TEST(MimeReadTest, SplitMultipart) {
  const std::string_view body =
      "preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b  \r\n\r\ntwo\r\n\r\n--b-x\r\nstill two\r\n--b--\r\n"
      "epilogue\r\n--b\r\nnot a part\r\n";
  std::vector<std::string_view> parts;
  MultipartSplit s = split_multipart(body, "b", 10, &parts);
  EXPECT_TRUE(s.closed);
  EXPECT_FALSE(s.truncated);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "A: 1\r\n\r\none");
  EXPECT_EQ(parts[1], "\r\ntwo\r\n\r\n--b-x\r\nstill two");
}

TEST(MimeReadTest, SplitMultipartFaults) {
  std::vector<std::string_view> parts;
  // No close delimiter: the last part runs to the end; bare LF.
  MultipartSplit s = split_multipart("--b\nx\n--b\ny\n", "b", 10, &parts);
  EXPECT_FALSE(s.closed);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "x");
  EXPECT_EQ(parts[1], "y\n");
  // Empty parts, a delimiter at the very start, no delimiter at all.
  parts.clear();
  split_multipart("--b\r\n--b\r\n--b--", "b", 10, &parts);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "");
  EXPECT_EQ(parts[1], "");
  parts.clear();
  s = split_multipart("just text\r\n", "b", 10, &parts);
  EXPECT_TRUE(parts.empty());
  EXPECT_FALSE(s.closed);
  parts.clear();
  split_multipart("--\r\n--b\r\n", "", 10, &parts);
  EXPECT_TRUE(parts.empty());
  // More parts than asked for: stop, say so.
  parts.clear();
  s = split_multipart("--b\r\n1\r\n--b\r\n2\r\n--b\r\n3\r\n--b--\r\n", "b", 2, &parts);
  EXPECT_TRUE(s.truncated);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1], "2");
  parts.clear();
  s = split_multipart("--b\r\n1\r\n--b\r\n2\r\n--b--\r\n", "b", 2, &parts);
  EXPECT_FALSE(s.truncated);
  EXPECT_TRUE(s.closed);
}

TEST(MimeReadTest, MimeToken) {
  EXPECT_EQ(mime_token(" Base64 (comment)"), "base64");
  EXPECT_EQ(mime_token("(c) Quoted-Printable\r\n"), "quoted-printable");
  EXPECT_EQ(mime_token(""), "");
  EXPECT_EQ(mime_token("(unterminated"), "");
  EXPECT_EQ(mime_token(std::string(200, 'x')), "");
}

}  // namespace
}  // namespace ringmta::proto
