// tests/proto/mime_decode_test.cc — base64 and quoted-printable as mail
// from strangers writes them: line ends and junk in base64, soft breaks,
// lower-case and broken escapes in quoted-printable; the output bound; no
// copy for the identity encodings.
#include "proto/mime_decode.h"

#include <gtest/gtest.h>

#include <string>

namespace ringmta::proto {
namespace {

TEST(MimeDecodeTest, Base64) {
  std::string out;
  decode_base64_mime("SGVs\r\nbG8s\r\nIHdv cmxk\r\n!!", 1000, &out);
  EXPECT_EQ(out, "Hello, world");
  decode_base64_mime("SGVsbG8=IGlnbm9yZWQ=", 1000, &out);  // '=' ends the data
  EXPECT_EQ(out, "Hello");
  decode_base64_mime("SGVsbG8sIHdvcmxk", 4, &out);
  EXPECT_EQ(out, "Hell");
  decode_base64_mime("", 10, &out);
  EXPECT_EQ(out, "");
}

TEST(MimeDecodeTest, QuotedPrintable) {
  std::string out;
  decode_quoted_printable("a=3Db=3db \r\nlong=\r\nline\r\n=XY=4", 1000, &out);
  EXPECT_EQ(out, "a=b=b\r\nlongline\r\n=XY=4");
  decode_quoted_printable("x\ny\n", 1000, &out);  // bare LF in, CRLF out
  EXPECT_EQ(out, "x\r\ny\r\n");
  decode_quoted_printable("abcdef", 3, &out);
  EXPECT_EQ(out, "abc");
  decode_quoted_printable("ab\r\ncd", 3, &out);  // a CRLF that does not fit is not half written
  EXPECT_EQ(out, "ab");
}

TEST(MimeDecodeTest, DecodeBody) {
  std::string storage;
  const std::string_view body = "SGk=";
  EXPECT_EQ(decode_body(" Base64 (comment)", body, 100, &storage), "Hi");
  EXPECT_EQ(decode_body("quoted-printable", "a=41", 100, &storage), "aA");
  std::string_view same = decode_body("7bit", body, 1, &storage);
  EXPECT_EQ(same.data(), body.data());  // no copy
  EXPECT_EQ(decode_body("x-uuencode", body, 100, &storage), body);
  EXPECT_EQ(decode_body("", body, 100, &storage), body);
}

}  // namespace
}  // namespace ringmta::proto
