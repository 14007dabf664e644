// tests/tools/ctl/spf_macro_test.cc — RFC 7208 7.4's macro examples, for
// the letters a DNS check knows (the sender's local part it does not).
#include "tools/ctl/spf_macro.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

SpfIdentity rfc_identity(const char* ip) {
  return {.ip = *IpAddress::parse(ip), .domain = "email.example.com", .helo = ""};
}

std::string expand(const char* spec, const char* ip = "192.0.2.3") {
  SpfExpansion e = expand_domain_spec(spec, rfc_identity(ip), "email.example.com");
  EXPECT_EQ(e.kind, SpfExpansion::kOk) << spec << ": " << e.why;
  return e.name;
}

TEST(SpfMacro, Rfc7208Examples) {
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(expand("%{D}.Example.COM."), "email.example.com.example.com");
}

TEST(SpfMacro, WhatACheckCannotKnowIsUnknownNotWrong) {
  for (const char* spec :
       {"%{s}", "%{l}.example.com", "%{lr-}.lp._spf.%{d2}", "%{p}.example.com", "%{h}.example.com"}) {
    SpfExpansion e = expand_domain_spec(spec, rfc_identity("192.0.2.3"), "email.example.com");
    EXPECT_EQ(e.kind, SpfExpansion::kUnknown) << spec;
  }
  SpfIdentity with_helo = rfc_identity("192.0.2.3");
  with_helo.helo = "mta1.example.com";
  EXPECT_EQ(expand_domain_spec("%{h}", with_helo, "x.example").name, "mta1.example.com");
}

TEST(SpfMacro, ZeroPartsIsInvalidAndLongNamesLoseLabelsOnTheLeft) {
  EXPECT_EQ(expand_domain_spec("%{d0}", rfc_identity("192.0.2.3"), "a.example").kind, SpfExpansion::kInvalid);
  std::string spec;
  for (int i = 0; i < 40; ++i) {
    spec += "label" + std::to_string(i) + ".";
  }
  spec += "%{d}";
  SpfExpansion e = expand_domain_spec(spec, rfc_identity("192.0.2.3"), "email.example.com");
  ASSERT_EQ(e.kind, SpfExpansion::kOk);
  EXPECT_LE(e.name.size(), 253u);
  EXPECT_EQ(e.name.substr(e.name.size() - 17), "email.example.com");
}

}  // namespace
}  // namespace ringmta::ctl
