// tests/tools/ctl/spf_eval_test.cc — check_host over a table of records:
// every mechanism, include and redirect, the limits of RFC 7208 4.6.4, DNS
// failures, macros a check cannot expand.
#include "tools/ctl/spf_eval.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/tools/ctl/fake_dns.h"

namespace ringmta::ctl {
namespace {

class SpfEvalTest : public ::testing::Test {
 protected:
  SpfVerdict check(const char* ip, const char* domain = "example.com") {
    return check_host({.ip = *IpAddress::parse(ip), .domain = domain}, dns);
  }
  SpfResult result(const char* ip) { return check(ip).result; }

  FakeDns dns;
};

TEST_F(SpfEvalTest, Ip4AndIp6WithCidr) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all");
  EXPECT_EQ(result("192.0.2.77"), SpfResult::kPass);
  EXPECT_EQ(result("2001:db8:1::5"), SpfResult::kPass);
  EXPECT_EQ(result("198.51.100.1"), SpfResult::kFail);
  EXPECT_EQ(check("192.0.2.77").reason, "'ip4:192.0.2.0/24' in example.com");
  EXPECT_EQ(check("198.51.100.1").reason, "'-all' in example.com");
}

TEST_F(SpfEvalTest, AAndMxLookUpTheAddressFamilyOfTheSender) {
  dns.txt("example.com", "v=spf1 a mx:mail.example.net/30 ~all");
  dns.a("example.com", "192.0.2.1");
  dns.aaaa("example.com", "2001:db8::1");
  dns.mx("mail.example.net", "mx1.example.net");
  dns.a("mx1.example.net", "198.51.100.4");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPass);
  EXPECT_EQ(result("2001:db8::1"), SpfResult::kPass);
  EXPECT_EQ(result("198.51.100.6"), SpfResult::kPass);  // within /30 of the MX host
  EXPECT_EQ(result("198.51.100.9"), SpfResult::kSoftFail);
  EXPECT_EQ(check("198.51.100.6").reason, "'mx:mail.example.net/30' in example.com (MX mx1.example.net)");
}

TEST_F(SpfEvalTest, IncludeMatchesOnlyOnPass) {
  dns.txt("example.com", "v=spf1 include:_spf.esp.example -all");
  dns.txt("_spf.esp.example", "v=spf1 ip4:203.0.113.0/24 ~all");
  EXPECT_EQ(result("203.0.113.9"), SpfResult::kPass);
  // The include's softfail does not match: example.com's -all decides.
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kFail);
  EXPECT_EQ(check("203.0.113.9").reason,
            "'include:_spf.esp.example' in example.com ('ip4:203.0.113.0/24' in _spf.esp.example)");
}

TEST_F(SpfEvalTest, IncludeOfANameWithoutSpfIsPermError) {
  dns.txt("example.com", "v=spf1 include:nothing.example -all");
  SpfVerdict v = check("192.0.2.1");
  EXPECT_EQ(v.result, SpfResult::kPermError);
  EXPECT_NE(v.reason.find("no SPF record at nothing.example"), std::string::npos) << v.reason;
}

TEST_F(SpfEvalTest, RedirectWhenNothingMatchesAndNoAll) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.1 redirect=_spf.example.com");
  dns.txt("_spf.example.com", "v=spf1 ip4:192.0.2.2 -all");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPass);
  EXPECT_EQ(result("192.0.2.2"), SpfResult::kPass);
  EXPECT_EQ(result("192.0.2.3"), SpfResult::kFail);
  dns.txt("broken.example", "v=spf1 redirect=nothing.example");
  EXPECT_EQ(check("192.0.2.1", "broken.example").result, SpfResult::kPermError);
}

TEST_F(SpfEvalTest, NoAllAndNoRedirectIsNeutral) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.1");
  EXPECT_EQ(result("192.0.2.9"), SpfResult::kNeutral);
}

TEST_F(SpfEvalTest, NoRecordIsNoneAndTwoAreAPermError) {
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kNone);
  dns.txt("example.com", "some verification token");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kNone);
  dns.txt("example.com", "v=spf1 -all");
  dns.txt("example.com", "v=spf1 +all");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPermError);
}

TEST_F(SpfEvalTest, ElevenDnsTermsArePermError) {
  std::string rec = "v=spf1";
  for (int i = 0; i < 11; ++i) {
    // StrCat, not "literal" + std::string: GCC 12 warns falsely (-Wrestrict) on that.
    const std::string name = absl::StrCat("i", i, ".example.com");
    absl::StrAppend(&rec, " include:", name);
    dns.txt(name, absl::StrCat("v=spf1 ip4:10.0.0.", i, " -all"));
  }
  dns.txt("example.com", rec + " -all");
  EXPECT_EQ(result("10.0.0.0"), SpfResult::kPass);  // found before the limit
  EXPECT_EQ(result("10.0.0.9"), SpfResult::kPass);
  SpfVerdict v = check("10.0.0.10");  // the 11th include
  EXPECT_EQ(v.result, SpfResult::kPermError);
  EXPECT_NE(v.reason.find("more than 10"), std::string::npos) << v.reason;
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPermError);
}

TEST_F(SpfEvalTest, AnIncludeLoopEndsAtTheLimit) {
  dns.txt("example.com", "v=spf1 include:example.com -all");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPermError);
  EXPECT_LT(dns.queries, 30);
}

TEST_F(SpfEvalTest, ThreeVoidLookupsArePermError) {
  dns.txt("example.com", "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com -all");
  SpfVerdict v = check("192.0.2.1");
  EXPECT_EQ(v.result, SpfResult::kPermError);
  EXPECT_NE(v.reason.find("void"), std::string::npos);
  dns.txt("two.example", "v=spf1 a:n1.example.com a:n2.example.com -all");
  EXPECT_EQ(check("192.0.2.1", "two.example").result, SpfResult::kFail);
}

TEST_F(SpfEvalTest, MoreThanTenMxNamesIsPermError) {
  dns.txt("example.com", "v=spf1 mx -all");
  for (int i = 0; i < 11; ++i) {
    dns.mx("example.com", "mx" + std::to_string(i) + ".example.com");
  }
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPermError);
}

TEST_F(SpfEvalTest, DnsFailuresAreTempErrors) {
  dns.fail("example.com", RrType::kTxt, DnsStatus::kTimeout);
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kTempError);
  dns.txt("other.example", "v=spf1 a:slow.example.com -all");
  dns.fail("slow.example.com", RrType::kA, DnsStatus::kError);
  EXPECT_EQ(check("192.0.2.1", "other.example").result, SpfResult::kTempError);
}

TEST_F(SpfEvalTest, ExistsWithTheAddressMacro) {
  dns.txt("example.com", "v=spf1 exists:%{ir}.allow.example.com -all");
  dns.a("1.2.0.192.allow.example.com", "127.0.0.2");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPass);
  EXPECT_EQ(result("192.0.2.9"), SpfResult::kFail);
}

TEST_F(SpfEvalTest, PtrNeedsANameThatResolvesBack) {
  dns.txt("example.com", "v=spf1 ptr -all");
  dns.ptr("1.2.0.192.in-addr.arpa", "mta.example.com");
  dns.a("mta.example.com", "192.0.2.1");
  dns.ptr("2.2.0.192.in-addr.arpa", "liar.example.com");
  dns.a("liar.example.com", "203.0.113.1");
  EXPECT_EQ(result("192.0.2.1"), SpfResult::kPass);
  EXPECT_EQ(result("192.0.2.2"), SpfResult::kFail);
}

TEST_F(SpfEvalTest, TermsNeedingTheSenderAreNotEvaluatedAndMayLeaveItUncertain) {
  dns.txt("example.com", "v=spf1 exists:%{l}.users.example.com ip4:192.0.2.1 -all");
  SpfVerdict pass = check("192.0.2.1");
  EXPECT_EQ(pass.result, SpfResult::kPass);
  EXPECT_TRUE(pass.certain);  // had the exists matched, it would have passed too
  ASSERT_EQ(pass.not_evaluated.size(), 1u);
  SpfVerdict fail = check("192.0.2.9");
  EXPECT_EQ(fail.result, SpfResult::kFail);
  EXPECT_FALSE(fail.certain);  // it might have passed
}

TEST_F(SpfEvalTest, APassFromAllIsMarked) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.1 include:open.example +all");
  dns.txt("open.example", "v=spf1 +all");
  EXPECT_FALSE(check("192.0.2.1").by_all);
  SpfVerdict v = check("198.51.100.1");
  EXPECT_EQ(v.result, SpfResult::kPass);
  EXPECT_TRUE(v.by_all);  // through the include's +all
}

}  // namespace
}  // namespace ringmta::ctl
