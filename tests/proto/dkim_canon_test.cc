// tests/proto/dkim_canon_test.cc — DKIM canonicalization against RFC 6376
// 3.4.5's examples and fixed body-hash vectors, and which fields a
// signature covers (5.4.2).
#include "proto/dkim_canon.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

std::string body(Canon c, std::string_view in) {
  std::string out;
  canon_body(c, in, [&](std::string_view p) { out.append(p); });
  return out;
}

std::string headers(Canon c, std::string_view in) {
  std::string out;
  for (const HeaderField& f : split_header_fields(in)) {
    canon_header(c, f, &out);
  }
  return out;
}

// RFC 6376 3.4.5, the example message.
constexpr std::string_view kExampleHeaders = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
constexpr std::string_view kExampleBody = " C \r\nD \t E\r\n\r\n\r\n";

TEST(DkimCanonTest, RelaxedHeadersAsRfc6376Example) {
  EXPECT_EQ(headers(Canon::kRelaxed, kExampleHeaders), "a:X\r\nb:Y Z\r\n");
}

TEST(DkimCanonTest, SimpleHeadersAreUnchanged) {
  EXPECT_EQ(headers(Canon::kSimple, kExampleHeaders), kExampleHeaders);
}

TEST(DkimCanonTest, RelaxedBodyAsRfc6376Example) { EXPECT_EQ(body(Canon::kRelaxed, kExampleBody), " C\r\nD E\r\n"); }

TEST(DkimCanonTest, SimpleBodyAsRfc6376Example) { EXPECT_EQ(body(Canon::kSimple, kExampleBody), " C \r\nD \t E\r\n"); }

TEST(DkimCanonTest, EmptyBodies) {
  // simple: one CRLF (its SHA-256 is the familiar frcCV1k9...); relaxed: nothing (47DEQpj8...).
  EXPECT_EQ(body(Canon::kSimple, ""), "\r\n");
  EXPECT_EQ(body(Canon::kSimple, "\r\n\r\n"), "\r\n");
  EXPECT_EQ(body(Canon::kRelaxed, ""), "");
  EXPECT_EQ(body(Canon::kRelaxed, "\r\n \t\r\n\r\n"), "");
}

TEST(DkimCanonTest, ALastLineWithoutCrlfGetsOne) {
  EXPECT_EQ(body(Canon::kSimple, "a"), "a\r\n");
  EXPECT_EQ(body(Canon::kRelaxed, "a  b  "), "a b\r\n");
}

TEST(DkimCanonTest, RelaxedKeepsLeadingWhitespaceAsOneSpaceAndInnerEmptyLines) {
  EXPECT_EQ(body(Canon::kRelaxed, "\t\ta\r\n\r\n  \r\nb\r\n"), " a\r\n\r\n\r\nb\r\n");
}

TEST(DkimCanonTest, LongBodiesComeOutWhole) {
  // More than the relaxed writer's buffer, with runs to squeeze on every line.
  std::string in, want;
  for (int i = 0; i < 5000; ++i) {
    in += "word  \t word\t\r\n";
    want += "word word\r\n";
  }
  EXPECT_EQ(body(Canon::kRelaxed, in + "\r\n\r\n"), want);
  EXPECT_EQ(body(Canon::kSimple, in + "\r\n\r\n"), in);
}

TEST(DkimCanonTest, SplitFindsContinuationsAndTheBody) {
  size_t start = 0;
  std::string_view msg = "Subject: a\r\n b\r\nFrom: x\r\n\r\nbody\r\n";
  std::vector<HeaderField> f = split_header_fields(msg, &start);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "Subject");
  EXPECT_EQ(f[0].raw, "Subject: a\r\n b\r\n");
  EXPECT_EQ(f[1].raw, "From: x\r\n");
  EXPECT_EQ(msg.substr(start), "body\r\n");
}

TEST(DkimCanonTest, SplitStopsAtALineThatIsNotAField) {
  size_t start = 0;
  std::string_view msg = "From: x\r\nnot a field\r\n";
  EXPECT_EQ(split_header_fields(msg, &start).size(), 1u);
  EXPECT_EQ(msg.substr(start), "not a field\r\n");
}

TEST(DkimCanonTest, SignedFieldsAreTakenBottomUpAndOverSignedNamesSignNothing) {
  std::vector<HeaderField> f = split_header_fields("To: 1\r\nFrom: a\r\nTo: 2\r\n\r\n");
  std::vector<const HeaderField*> s = select_signed_headers(f, {"to", "from", "to", "to", "cc"});
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0]->raw, "To: 2\r\n");
  EXPECT_EQ(s[1]->raw, "From: a\r\n");
  EXPECT_EQ(s[2]->raw, "To: 1\r\n");
  EXPECT_EQ(s[3], nullptr);
  EXPECT_EQ(s[4], nullptr);
}

}  // namespace
}  // namespace ringmta::proto
