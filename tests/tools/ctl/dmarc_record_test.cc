// tests/tools/ctl/dmarc_record_test.cc — DMARC policy records (RFC 7489 6.3).
#include "tools/ctl/dmarc_record.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

TEST(DmarcRecord, OnlyRecordsStartingWithVDmarc1AreDmarcs) {
  EXPECT_TRUE(is_dmarc_record("v=DMARC1; p=none"));
  EXPECT_TRUE(is_dmarc_record("v = DMARC1 ;p=none"));
  EXPECT_TRUE(is_dmarc_record("v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("v=dmarc1; p=none"));  // must match precisely
  EXPECT_FALSE(is_dmarc_record("v=DMARC10; p=none"));
  EXPECT_FALSE(is_dmarc_record("p=none; v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("v=spf1 -all"));
}

TEST(DmarcRecord, ReadsPolicySubdomainPolicyPercentAndReports) {
  absl::StatusOr<DmarcRecord> r =
      parse_dmarc_record("v=DMARC1; p=Quarantine; sp=reject; pct=50; rua=mailto:a@example.com, mailto:b@example.net");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policy, "quarantine");
  EXPECT_EQ(r->subdomain_policy, "reject");
  EXPECT_EQ(r->percent, 50);
  EXPECT_EQ(r->rua, (std::vector<std::string>{"mailto:a@example.com", "mailto:b@example.net"}));
  EXPECT_EQ(parse_dmarc_record("v=DMARC1; p=none")->percent, 100);
}

TEST(DmarcRecord, RefusesAMissingOrUnknownPolicy) {
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1").ok());
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; rua=mailto:a@example.com").ok());
  absl::StatusOr<DmarcRecord> bogus = parse_dmarc_record("v=DMARC1; p=bogus");
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(std::string(bogus.status().message()).find("p=bogus"), std::string::npos);
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=none; sp=maybe").ok());
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=none; pct=101").ok());
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=none; pct=x").ok());
  EXPECT_FALSE(parse_dmarc_record("v=DMARC1; p=none; p=reject").ok());  // duplicate tag
}

}  // namespace
}  // namespace ringmta::ctl
