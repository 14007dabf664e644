// tests/tools/ctl/spf_test.cc — SPF record syntax (RFC 7208 4.5, 5, 6, 7.1)
// and the suggested record.
#include "tools/ctl/spf.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

TEST(Spf, WhichTxtRecordsAreSpf) {
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_TRUE(is_spf_record("V=SPF1 -all"));
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
  EXPECT_FALSE(is_spf_record(" v=spf1 -all"));
  EXPECT_FALSE(is_spf_record("v=DKIM1; p=abc"));
}

TEST(Spf, ParsesEveryMechanismWithQualifiersAndCidrs) {
  absl::StatusOr<SpfRecord> r = parse_spf(
      "v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 ~a a:mail.example.com/28 mx//64 ?mx:example.net/24//48 "
      "include:_spf.example.com exists:%{i}.x.example.com ptr ptr:example.org  +all");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->terms.size(), 11u);
  const std::vector<SpfTerm>& t = r->terms;
  EXPECT_EQ(t[0].mechanism, SpfMechanism::kIp4);
  EXPECT_EQ(t[0].cidr4, 24);
  EXPECT_EQ(t[0].network, *IpAddress::parse("192.0.2.0"));
  EXPECT_EQ(t[1].mechanism, SpfMechanism::kIp6);
  EXPECT_EQ(t[1].qualifier, SpfQualifier::kFail);
  EXPECT_EQ(t[1].cidr6, 32);
  EXPECT_EQ(t[2].mechanism, SpfMechanism::kA);
  EXPECT_EQ(t[2].qualifier, SpfQualifier::kSoftFail);
  EXPECT_EQ(t[2].domain, "");
  EXPECT_EQ(t[3].domain, "mail.example.com");
  EXPECT_EQ(t[3].cidr4, 28);
  EXPECT_EQ(t[4].mechanism, SpfMechanism::kMx);
  EXPECT_EQ(t[4].cidr4, 32);
  EXPECT_EQ(t[4].cidr6, 64);
  EXPECT_EQ(t[5].qualifier, SpfQualifier::kNeutral);
  EXPECT_EQ(t[5].domain, "example.net");
  EXPECT_EQ(t[5].cidr4, 24);
  EXPECT_EQ(t[5].cidr6, 48);
  EXPECT_EQ(t[6].mechanism, SpfMechanism::kInclude);
  EXPECT_EQ(t[6].domain, "_spf.example.com");
  EXPECT_EQ(t[7].mechanism, SpfMechanism::kExists);
  EXPECT_EQ(t[7].domain, "%{i}.x.example.com");
  EXPECT_EQ(t[8].mechanism, SpfMechanism::kPtr);
  EXPECT_EQ(t[9].domain, "example.org");
  EXPECT_EQ(t[10].mechanism, SpfMechanism::kAll);
  EXPECT_EQ(t[10].qualifier, SpfQualifier::kPass);
  EXPECT_TRUE(r->has_all());
  int dns_terms = 0;
  for (const SpfTerm& term : t) {
    dns_terms += term.queries_dns() ? 1 : 0;
  }
  EXPECT_EQ(dns_terms, 8);
}

TEST(Spf, ModifiersRedirectExpAndUnknownOnes) {
  absl::StatusOr<SpfRecord> r = parse_spf("v=spf1 mx redirect=_spf.example.com exp=explain.%{d} foo=bar");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->terms.size(), 1u);
  EXPECT_EQ(r->redirect, "_spf.example.com");
  EXPECT_EQ(r->exp, "explain.%{d}");
  EXPECT_FALSE(r->has_all());
  EXPECT_TRUE(parse_spf("v=spf1")->terms.empty());
}

TEST(Spf, SyntaxErrorsArePermErrorsThatNameTheTerm) {
  for (const char* bad : {"v=spf1 ip4:192.0.2.0/33",
                          "v=spf1 ip4:2001:db8::1",
                          "v=spf1 ip6:192.0.2.1",
                          "v=spf1 ip4:192.0.2.0/024",
                          "v=spf1 ip4",
                          "v=spf1 include",
                          "v=spf1 include:",
                          "v=spf1 include:localhost",
                          "v=spf1 include:example.123",
                          "v=spf1 a:example.com/abc",
                          "v=spf1 mx/",
                          "v=spf1 all:x",
                          "v=spf1 foo",
                          "v=spf1 -redirect=example.com",
                          "v=spf1 redirect=a.example.com redirect=b.example.com",
                          "v=spf1 exists:%{x}.example.com",
                          "v=spf1 exists:%{i.example.com",
                          "v=spf1 include:%.example.com",
                          "v=spf1 +",
                          "v=spf1 exists:%{c}.example.com",
                          "v=spf1 unknown=%z",
                          "v=spf1 ip6:2001:db8::/129"}) {
    EXPECT_FALSE(parse_spf(bad).ok()) << bad;
  }
  EXPECT_NE(std::string(parse_spf("v=spf1 ip4:10.0.0.1 foo:bar -all").status().message()).find("'foo:bar'"),
            std::string::npos);
}

TEST(Spf, DomainSpecsEndInATopLabelOrAMacro) {
  EXPECT_TRUE(valid_domain_spec("example.com"));
  EXPECT_TRUE(valid_domain_spec("example.com."));
  EXPECT_TRUE(valid_domain_spec("%{d}"));
  EXPECT_TRUE(valid_domain_spec("%{ir}.%{v}._spf.%{d2}"));
  EXPECT_TRUE(valid_domain_spec("%{l1r-}.example.com"));
  EXPECT_TRUE(valid_domain_spec("x%%y%_z%-.example.com"));
  EXPECT_FALSE(valid_domain_spec("example"));
  EXPECT_FALSE(valid_domain_spec("example.-com"));
  EXPECT_FALSE(valid_domain_spec("example.123"));
  EXPECT_FALSE(valid_domain_spec(""));
  EXPECT_FALSE(valid_domain_spec("%{t}.example.com"));  // c, r, t are for exp= only
}

TEST(SuggestSpf, AddsAddressesKeepsTermsAndEndsInAll) {
  const std::vector<IpAddress> add = {*IpAddress::parse("192.0.2.10"), *IpAddress::parse("2001:db8::1")};
  EXPECT_EQ(suggest_spf({}, add, false), "v=spf1 ip4:192.0.2.10 ip6:2001:db8::1 -all");
  EXPECT_EQ(suggest_spf({"v=spf1 mx include:_spf.esp.example ~all"}, add, true),
            "v=spf1 mx include:_spf.esp.example ip4:192.0.2.10 ip6:2001:db8::1 ~all");
  EXPECT_EQ(suggest_spf({"v=spf1 ip4:192.0.2.10 +all"}, {*IpAddress::parse("192.0.2.10")}, false),
            "v=spf1 ip4:192.0.2.10 -all");
  EXPECT_EQ(suggest_spf({"v=spf1 redirect=_spf.example.com"}, add, false),
            "v=spf1 include:_spf.example.com ip4:192.0.2.10 ip6:2001:db8::1 -all");
  // Two records merged; a term that does not parse is left out.
  EXPECT_EQ(suggest_spf({"v=spf1 mx -all", "v=spf1 a mx bogus:x ?all"}, {}, false), "v=spf1 mx a -all");
}

}  // namespace
}  // namespace ringmta::ctl
