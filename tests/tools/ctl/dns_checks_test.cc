// tests/tools/ctl/dns_checks_test.cc — the dns check's lines over a table of
// records: each check's OK, MISSING, WRONG, UNKNOWN and SKIP, and the record
// a MISSING or WRONG line says to publish.
#include "tools/ctl/dns_checks.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "tests/tools/ctl/fake_dns.h"

namespace ringmta::ctl {
namespace {

class DnsChecksTest : public ::testing::Test {
 protected:
  DnsChecksTest() {
    in.domain = "example.com";
    in.config_file = "ringmta.toml";
    in.sources = {{"ip-1", *IpAddress::parse("192.0.2.10"), "mta1.example.com"},
                  {"ip-2", *IpAddress::parse("192.0.2.11"), ""}};
    in.dkim = {{"s1", "rsa", "MIIBkey", "/etc/ringmta/example.com.s1.key"}};
  }

  // run: the lines one check prints.
  std::vector<CheckLine> run(void (*check)(const DnsCheckInput&, DnsLookup&, CheckReport&)) {
    CheckReport report(nullptr);
    check(in, dns, report);
    return report.lines();
  }

  DnsCheckInput in;
  FakeDns dns;
};

TEST_F(DnsChecksTest, DkimMatchingKeyIsOkAndStringsAreJoined) {
  dns.txt("s1._domainkey.example.com", "v=DKIM1; k=rsa; p=MIIBkey");
  std::vector<CheckLine> l = run(check_dkim);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].status, CheckStatus::kOk) << l[0].detail;
  EXPECT_EQ(l[0].what, "DKIM s1._domainkey.example.com");
}

TEST_F(DnsChecksTest, DkimMissingWrongKeyWrongTypeAndRevoked) {
  std::vector<CheckLine> l = run(check_dkim);
  EXPECT_EQ(l[0].status, CheckStatus::kMissing);
  EXPECT_EQ(l[0].publish, "s1._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=MIIBkey\"");

  dns.txt("s1._domainkey.example.com", "v=DKIM1; k=rsa; p=MIIBother");
  l = run(check_dkim);
  EXPECT_EQ(l[0].status, CheckStatus::kWrong);
  EXPECT_NE(l[0].detail.find("another key"), std::string::npos) << l[0].detail;
  EXPECT_EQ(l[0].publish, "s1._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=MIIBkey\"");

  FakeDns other;
  other.txt("s1._domainkey.example.com", "v=DKIM1; k=ed25519; p=MIIBkey");
  CheckReport r1(nullptr);
  check_dkim(in, other, r1);
  EXPECT_EQ(r1.lines()[0].status, CheckStatus::kWrong);
  EXPECT_NE(r1.lines()[0].detail.find("k=ed25519"), std::string::npos);

  FakeDns revoked;
  revoked.txt("s1._domainkey.example.com", "v=DKIM1; p=");
  CheckReport r2(nullptr);
  check_dkim(in, revoked, r2);
  EXPECT_EQ(r2.lines()[0].status, CheckStatus::kWrong);
  EXPECT_NE(r2.lines()[0].detail.find("revoked"), std::string::npos);
}

TEST_F(DnsChecksTest, DkimTimeoutIsUnknownAndNoKeysIsSkip) {
  dns.fail("s1._domainkey.example.com", RrType::kTxt, DnsStatus::kTimeout);
  std::vector<CheckLine> l = run(check_dkim);
  EXPECT_EQ(l[0].status, CheckStatus::kUnknown);
  EXPECT_NE(l[0].detail.find("timeout"), std::string::npos);
  in.dkim.clear();
  l = run(check_dkim);
  EXPECT_EQ(l[0].status, CheckStatus::kSkip);
}

TEST_F(DnsChecksTest, DkimSelectorWithoutAKeyChecksTheRecordParses) {
  in.dkim = {{.selector = "s2"}};
  dns.txt("s2._domainkey.example.com", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  EXPECT_EQ(run(check_dkim)[0].status, CheckStatus::kOk);
  FakeDns short_key;
  short_key.txt("s2._domainkey.example.com", "v=DKIM1; k=ed25519; p=AAAA");
  CheckReport r(nullptr);
  check_dkim(in, short_key, r);
  EXPECT_EQ(r.lines()[0].status, CheckStatus::kWrong);
}

TEST_F(DnsChecksTest, SpfAllGood) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all");
  std::vector<CheckLine> l = run(check_spf);
  ASSERT_EQ(l.size(), 3u);  // the record, then each source
  for (const CheckLine& line : l) {
    EXPECT_EQ(line.status, CheckStatus::kOk) << line.what << ": " << line.detail;
  }
  EXPECT_EQ(l[1].what, "SPF example.com for 192.0.2.10 (source ip-1)");
}

TEST_F(DnsChecksTest, SpfMissingSuggestsTheSources) {
  std::vector<CheckLine> l = run(check_spf);
  EXPECT_EQ(l[0].status, CheckStatus::kMissing);
  EXPECT_EQ(l[0].publish, "example.com. IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all\"");
  EXPECT_EQ(l[1].status, CheckStatus::kWrong);
}

TEST_F(DnsChecksTest, SpfPlusAllIsWrongEvenThoughEverySourcePasses) {
  dns.txt("example.com", "v=spf1 +all");
  std::vector<CheckLine> l = run(check_spf);
  EXPECT_EQ(l[0].status, CheckStatus::kWrong);
  EXPECT_NE(l[0].detail.find("'+all'"), std::string::npos);
  EXPECT_EQ(l[0].publish, "example.com. IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all\"");
}

TEST_F(DnsChecksTest, SpfNoAllAndQuestionAllAreWrong) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11");
  EXPECT_EQ(run(check_spf)[0].status, CheckStatus::kWrong);
  FakeDns q;
  q.txt("example.com", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ?all");
  CheckReport r(nullptr);
  check_spf(in, q, r);
  EXPECT_EQ(r.lines()[0].status, CheckStatus::kWrong);
  EXPECT_NE(r.lines()[0].detail.find("'?all'"), std::string::npos);
}

TEST_F(DnsChecksTest, SpfASourceLeftOutGetsTheRecordThatAddsIt) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.10 ~all");
  std::vector<CheckLine> l = run(check_spf);
  EXPECT_EQ(l[0].status, CheckStatus::kOk);
  EXPECT_EQ(l[1].status, CheckStatus::kOk);
  EXPECT_EQ(l[2].status, CheckStatus::kWrong);
  EXPECT_NE(l[2].detail.find("softfail"), std::string::npos);
  EXPECT_EQ(l[2].publish, "example.com. IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ~all\"");
}

TEST_F(DnsChecksTest, SpfTwoRecordsAndLookupLimit) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.10 -all");
  dns.txt("example.com", "v=spf1 ip4:192.0.2.11 -all");
  std::vector<CheckLine> l = run(check_spf);
  EXPECT_EQ(l[0].status, CheckStatus::kWrong);
  EXPECT_NE(l[0].detail.find("2 v=spf1 records"), std::string::npos);
  EXPECT_EQ(l[0].publish, "example.com. IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all\"");

  FakeDns many;
  std::string rec = "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11";
  for (int i = 0; i < 11; ++i) {
    // StrCat, not "literal" + std::string: GCC 12 warns falsely (-Wrestrict) on that.
    absl::StrAppend(&rec, " include:i", i, ".example.com");
    many.txt(absl::StrCat("i", i, ".example.com"), "v=spf1 -all");
  }
  many.txt("example.com", rec + " -all");
  CheckReport r(nullptr);
  check_spf(in, many, r);
  EXPECT_EQ(r.lines()[0].status, CheckStatus::kWrong);
  EXPECT_NE(r.lines()[0].detail.find("more than 10"), std::string::npos);
  EXPECT_EQ(r.lines()[1].status, CheckStatus::kOk);  // its ip4 comes before the includes
}

TEST_F(DnsChecksTest, SpfIncludeThatTimesOutIsUnknownNotWrong) {
  dns.txt("example.com", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 include:slow.example -all");
  dns.fail("slow.example", RrType::kTxt, DnsStatus::kTimeout);
  std::vector<CheckLine> l = run(check_spf);
  EXPECT_EQ(l[0].status, CheckStatus::kUnknown) << l[0].detail;
  EXPECT_EQ(l[1].status, CheckStatus::kOk);  // listed before the include
}

TEST_F(DnsChecksTest, SpfWithoutSourcesSaysSo) {
  in.sources.clear();
  dns.txt("example.com", "v=spf1 mx -all");
  dns.mx("example.com", "mx.example.com");
  std::vector<CheckLine> l = run(check_spf);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].status, CheckStatus::kOk);
  EXPECT_EQ(l[1].status, CheckStatus::kSkip);
  EXPECT_NE(l[1].detail.find("--ip"), std::string::npos);
}

TEST_F(DnsChecksTest, Dmarc) {
  std::vector<CheckLine> l = run(check_dmarc);
  EXPECT_EQ(l[0].status, CheckStatus::kMissing);
  EXPECT_EQ(l[0].publish, "_dmarc.example.com. IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com\"");

  dns.txt("_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:d@example.com");
  l = run(check_dmarc);
  EXPECT_EQ(l[0].status, CheckStatus::kOk);
  EXPECT_NE(l[0].detail.find("only monitors"), std::string::npos);

  FakeDns bogus;
  bogus.txt("_dmarc.example.com", "v=DMARC1; p=bogus");
  CheckReport r(nullptr);
  check_dmarc(in, bogus, r);
  EXPECT_EQ(r.lines()[0].status, CheckStatus::kWrong);
  EXPECT_NE(r.lines()[0].detail.find("p=bogus"), std::string::npos);
}

TEST_F(DnsChecksTest, FcrdnsGoodMissingNotBackAndNotTheEhlo) {
  dns.ptr("10.2.0.192.in-addr.arpa", "mta1.example.com");
  dns.a("mta1.example.com", "192.0.2.10");
  dns.ptr("11.2.0.192.in-addr.arpa", "mta2.example.com");
  dns.a("mta2.example.com", "192.0.2.99");
  std::vector<CheckLine> l = run(check_fcrdns);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].status, CheckStatus::kOk) << l[0].detail;
  EXPECT_EQ(l[1].status, CheckStatus::kWrong);
  EXPECT_EQ(l[1].publish, "mta2.example.com. IN A 192.0.2.11");

  in.sources[0].ehlo = "other.example.com";
  l = run(check_fcrdns);
  EXPECT_EQ(l[0].status, CheckStatus::kWrong);
  EXPECT_NE(l[0].detail.find("ehlo is other.example.com"), std::string::npos);

  FakeDns none;
  CheckReport r(nullptr);
  check_fcrdns(in, none, r);
  EXPECT_EQ(r.lines()[0].status, CheckStatus::kMissing);
  EXPECT_EQ(r.lines()[0].publish, "10.2.0.192.in-addr.arpa. IN PTR other.example.com.");

  in.sources.clear();
  EXPECT_EQ(run(check_fcrdns)[0].status, CheckStatus::kSkip);
}

TEST(CheckReport, PassesOnlyWithoutMissingWrongOrUnknown) {
  CheckReport r(nullptr);
  r.add({.status = CheckStatus::kOk});
  r.add({.status = CheckStatus::kSkip});
  EXPECT_TRUE(r.passed());
  r.add({.status = CheckStatus::kUnknown});
  EXPECT_FALSE(r.passed());
}

}  // namespace
}  // namespace ringmta::ctl
