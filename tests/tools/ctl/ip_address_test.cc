// tests/tools/ctl/ip_address_test.cc — addresses, networks, reverse names.
#include "tools/ctl/ip_address.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

IpAddress ip(const char* s) { return *IpAddress::parse(s); }

TEST(IpAddress, ParsesBothFamiliesAndMapsV4MappedToV4) {
  EXPECT_FALSE(ip("192.0.2.10").v6);
  EXPECT_EQ(ip("192.0.2.10").to_string(), "192.0.2.10");
  EXPECT_TRUE(ip("2001:DB8::1").v6);
  EXPECT_EQ(ip("2001:DB8::1").to_string(), "2001:db8::1");
  EXPECT_EQ(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
  EXPECT_FALSE(IpAddress::parse("192.0.2").has_value());
  EXPECT_FALSE(IpAddress::parse("192.0.2.10/24").has_value());
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse("example.com").has_value());
}

TEST(IpAddress, MatchesNetworksBitByBit) {
  EXPECT_TRUE(ip("192.0.2.130").in_network(ip("192.0.2.128"), 25));
  EXPECT_FALSE(ip("192.0.2.127").in_network(ip("192.0.2.128"), 25));
  EXPECT_TRUE(ip("10.1.2.3").in_network(ip("0.0.0.0"), 0));
  EXPECT_TRUE(ip("192.0.2.1").in_network(ip("192.0.2.1"), 32));
  EXPECT_FALSE(ip("192.0.2.1").in_network(ip("192.0.2.1"), 33));
  EXPECT_TRUE(ip("2001:db8::ff").in_network(ip("2001:db8::"), 64));
  EXPECT_FALSE(ip("2001:db9::").in_network(ip("2001:db8::"), 32));
  EXPECT_FALSE(ip("192.0.2.1").in_network(ip("::"), 0));  // families never match
}

TEST(IpAddress, ReverseNamesAndSpfDottedForm) {
  EXPECT_EQ(ip("192.0.2.3").reverse_name(), "3.2.0.192.in-addr.arpa");
  EXPECT_EQ(ip("2001:db8::cb01").reverse_name(),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(ip("192.0.2.3").dotted(), "192.0.2.3");
  EXPECT_EQ(ip("2001:db8::cb01").dotted(), "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
}

}  // namespace
}  // namespace ringmta::ctl
