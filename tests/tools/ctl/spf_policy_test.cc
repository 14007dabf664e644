// tests/tools/ctl/spf_policy_test.cc — the whole-policy walk: DNS-querying
// terms counted through every include and redirect, where the policy ends,
// names without a record, loops.
#include "tools/ctl/spf_policy.h"

#include <gtest/gtest.h>

#include "tests/tools/ctl/fake_dns.h"

namespace ringmta::ctl {
namespace {

class SpfPolicyTest : public ::testing::Test {
 protected:
  FakeDns dns;
};

TEST_F(SpfPolicyTest, AnalyzeCountsThroughEveryIncludeAndFindsTheEnding) {
  dns.txt("_a.example.com", "v=spf1 a mx include:_b.example.com ~all");
  dns.txt("_b.example.com", "v=spf1 ip4:192.0.2.0/24 exists:x.example.com -all");
  dns.txt("_r.example.com", "v=spf1 include:_a.example.com ~all");
  absl::StatusOr<SpfRecord> top = parse_spf("v=spf1 ip4:198.51.100.1 redirect=_r.example.com");
  SpfPolicy p = analyze_spf("example.com", *top, dns);
  // redirect, include:_a, a, mx, include:_b, exists.
  EXPECT_EQ(p.dns_terms, 6);
  ASSERT_TRUE(p.ending.has_value());
  EXPECT_EQ(*p.ending, SpfQualifier::kSoftFail);
  EXPECT_EQ(p.ending_domain, "_r.example.com");
  EXPECT_TRUE(p.problems.empty());
}

TEST_F(SpfPolicyTest, AnalyzeReportsIncludesWithoutRecordsAndMissingAll) {
  absl::StatusOr<SpfRecord> top = parse_spf("v=spf1 include:gone.example ip4:192.0.2.1");
  SpfPolicy p = analyze_spf("example.com", *top, dns);
  EXPECT_FALSE(p.ending.has_value());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].find("no SPF record at gone.example"), std::string::npos);
  // Over the limit, and a loop, still ends.
  dns.txt("loop.example", "v=spf1 include:loop.example -all");
  SpfPolicy loop = analyze_spf("loop.example", *parse_spf("v=spf1 include:loop.example -all"), dns);
  EXPECT_GT(loop.dns_terms, kSpfMaxDnsTerms);
  EXPECT_EQ(*loop.ending, SpfQualifier::kFail);
}

TEST_F(SpfPolicyTest, WhatCannotBeFollowedIsUnresolvedNotAProblem) {
  dns.fail("slow.example", RrType::kTxt, DnsStatus::kTimeout);
  SpfPolicy p = analyze_spf("example.com", *parse_spf("v=spf1 include:slow.example include:%{d}.x.example -all"), dns);
  EXPECT_TRUE(p.problems.empty());
  ASSERT_EQ(p.unresolved.size(), 2u);
  EXPECT_NE(p.unresolved[0].find("timeout"), std::string::npos) << p.unresolved[0];
  EXPECT_TRUE(p.ending_known);
  SpfPolicy r = analyze_spf("example.com", *parse_spf("v=spf1 redirect=slow.example"), dns);
  EXPECT_FALSE(r.ending_known);
}

}  // namespace
}  // namespace ringmta::ctl
