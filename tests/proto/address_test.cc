// tests/proto/address_test.cc — RFC 5321 path syntax.
#include "proto/address.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

struct Parsed {
  PathStatus status;
  std::string text;
};

Parsed parse(std::string_view path, PathOptions options = {}) {
  Address a;
  PathStatus status = parse_path(path, options, &a);
  return {status, status == PathStatus::kOk ? address_text(a) : std::string()};
}

constexpr PathOptions kUtf8{.smtputf8 = true};

TEST(AddressTest, PlainAddressesKeepLocalCaseAndLowerTheDomain) {
  EXPECT_EQ(parse("<User.Name+tag@Example.ORG>").text, "User.Name+tag@example.org");
  EXPECT_EQ(parse("<a@b>").text, "a@b");
  EXPECT_EQ(parse("<!#$%&'*+-/=?^_`{|}~@x.example>").status, PathStatus::kOk);
  EXPECT_EQ(parse("<a@sub-domain.x1.example>").status, PathStatus::kOk);
}

TEST(AddressTest, NullPathOnlyWhenAllowed) {
  Address a;
  EXPECT_EQ(parse_path("<>", {.allow_null = true}, &a), PathStatus::kOk);
  EXPECT_TRUE(a.is_null);
  EXPECT_EQ(address_text(a), "");
  EXPECT_EQ(parse("<>").status, PathStatus::kSyntax);
}

TEST(AddressTest, PostmasterWithoutDomainOnlyWhenAllowed) {
  PathOptions rcpt{.allow_postmaster = true};
  EXPECT_EQ(parse("<Postmaster>", rcpt).text, "postmaster");
  EXPECT_EQ(parse("<postmaster>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<postmaster@Example.test>", rcpt).text, "postmaster@example.test");
  EXPECT_EQ(parse("<user>", rcpt).status, PathStatus::kSyntax);
}

TEST(AddressTest, SourceRoutesAreStripped) {
  EXPECT_EQ(parse("<@a.example,@b.example:user@d.example>").text, "user@d.example");
  EXPECT_EQ(parse("<@a.example:user@d.example>").text, "user@d.example");
  EXPECT_EQ(parse("<@a.example,:user@d.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<@:user@d.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<@a..b:user@d.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<@a.example user@d.example>").status, PathStatus::kSyntax);
}

TEST(AddressTest, QuotedLocalParts) {
  EXPECT_EQ(parse("<\"john doe\"@x.example>").text, "\"john doe\"@x.example");
  EXPECT_EQ(parse("<\"a\\\"b\"@x.example>").status, PathStatus::kOk);
  EXPECT_EQ(parse("<\"a>b@c\"@x.example>").text, "\"a>b@c\"@x.example");
  EXPECT_EQ(parse("<\"\"@x.example>").status, PathStatus::kOk);  // RFC 5321 allows it
  EXPECT_EQ(parse("<\"unterminated@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<\"a\"b@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<\"tab\there\"@x.example>").status, PathStatus::kSyntax);
}

TEST(AddressTest, DotAtomRules) {
  EXPECT_EQ(parse("<.a@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a.@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a..b@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a b@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a(b)@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<@x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@b@c>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("a@b").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@b").status, PathStatus::kSyntax);
}

TEST(AddressTest, Domains) {
  EXPECT_EQ(parse("<a@-x.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@x-.example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@x..example>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@x.example.>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@x_y.example>").status, PathStatus::kSyntax);
  std::string label63(63, 'l'), label64(64, 'l');
  EXPECT_EQ(parse("<a@" + label63 + ".example>").status, PathStatus::kOk);
  EXPECT_EQ(parse("<a@" + label64 + ".example>").status, PathStatus::kSyntax);
}

TEST(AddressTest, AddressLiterals) {
  EXPECT_EQ(parse("<a@[192.0.2.1]>").text, "a@[192.0.2.1]");
  EXPECT_EQ(parse("<a@[IPv6:2001:db8::1]>").text, "a@[ipv6:2001:db8::1]");
  EXPECT_EQ(parse("<a@[ipv6:::1]>").status, PathStatus::kOk);
  EXPECT_EQ(parse("<a@[256.0.0.1]>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@[1.2.3]>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@[1.2.3.4.5]>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@[IPv6:2001:db8::g]>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@[x-tag:foo]>").status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a@[]>").status, PathStatus::kSyntax);
}

TEST(AddressTest, LengthLimits) {
  std::string local64(64, 'a'), local65(65, 'a');
  EXPECT_EQ(parse("<" + local64 + "@x.example>").status, PathStatus::kOk);
  EXPECT_EQ(parse("<" + local65 + "@x.example>").status, PathStatus::kTooLong);
  // A 254-octet mailbox fills a 256-octet path exactly.
  std::string domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." +
                       std::string(63, 'd') + "." + std::string(60, 'd');
  ASSERT_EQ(domain.size(), 252u);
  EXPECT_EQ(parse("<a@" + domain + ">").status, PathStatus::kOk);
  EXPECT_EQ(parse("<ab@" + domain + ">").status, PathStatus::kTooLong);
}

TEST(AddressTest, Utf8NeedsSmtpUtf8) {
  const std::string addr = "<j\xC3\xB6rg@b\xC3\xBC" "cher.example>";
  EXPECT_EQ(parse(addr).status, PathStatus::kNeedsSmtpUtf8);
  EXPECT_EQ(parse(addr, kUtf8).text, "j\xC3\xB6rg@b\xC3\xBC" "cher.example");
  EXPECT_EQ(parse("<\"\xC3\xB6 x\"@x.example>", kUtf8).status, PathStatus::kOk);
}

TEST(AddressTest, MalformedUtf8IsRefusedEvenWithSmtpUtf8) {
  EXPECT_EQ(parse("<a\xC3@x.example>", kUtf8).status, PathStatus::kSyntax);          // truncated
  EXPECT_EQ(parse("<a\xC0\xAF@x.example>", kUtf8).status, PathStatus::kSyntax);      // overlong
  EXPECT_EQ(parse("<a\xED\xA0\x80@x.example>", kUtf8).status, PathStatus::kSyntax);  // surrogate
  EXPECT_EQ(parse("<a\xF4\x90\x80\x80@x.example>", kUtf8).status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a\x80@x.example>", kUtf8).status, PathStatus::kSyntax);
  EXPECT_EQ(parse("<a\xF0\x9F\x98\x80@x.example>", kUtf8).status, PathStatus::kOk);  // emoji
}

TEST(AddressTest, ValidUtf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xE2\x82\xAC"));
  EXPECT_FALSE(valid_utf8("\xE2\x82"));
  EXPECT_FALSE(valid_utf8("\xE0\x80\x80"));
  EXPECT_FALSE(valid_utf8("\xFF"));
}

TEST(AddressTest, FindPathEndSkipsQuotedBrackets) {
  EXPECT_EQ(find_path_end("<a@b> SIZE=1"), 5u);
  EXPECT_EQ(find_path_end("<\"x>y\"@b>"), 9u);
  EXPECT_EQ(find_path_end("<a@b"), std::string_view::npos);
  EXPECT_EQ(find_path_end("a@b>"), std::string_view::npos);
}

}  // namespace
}  // namespace ringmta::proto
