#include "engine/inbound/cidr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace ringmta {
namespace {

sockaddr_storage addr(const char* text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6->sin6_addr), 1) << text;
    v6->sin6_family = AF_INET6;
  }
  return ss;
}

bool contains(const char* net, const char* a) {
  auto n = Cidr::parse(net);
  EXPECT_TRUE(n.ok()) << net;
  sockaddr_storage ss = addr(a);
  return n->contains(reinterpret_cast<sockaddr*>(&ss));
}

TEST(Cidr, Ipv4Prefixes) {
  EXPECT_TRUE(contains("127.0.0.0/8", "127.0.0.1"));
  EXPECT_TRUE(contains("127.0.0.0/8", "127.255.1.2"));
  EXPECT_FALSE(contains("127.0.0.0/8", "128.0.0.1"));
  EXPECT_TRUE(contains("10.1.2.0/23", "10.1.3.200"));
  EXPECT_FALSE(contains("10.1.2.0/23", "10.1.4.1"));
  EXPECT_TRUE(contains("0.0.0.0/0", "8.8.8.8"));
  EXPECT_TRUE(contains("192.0.2.7", "192.0.2.7"));
  EXPECT_FALSE(contains("192.0.2.7", "192.0.2.8"));
}

TEST(Cidr, Ipv6AndMappedIpv4) {
  EXPECT_TRUE(contains("::1/128", "::1"));
  EXPECT_FALSE(contains("::1/128", "::2"));
  EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:1::5"));
  EXPECT_TRUE(contains("127.0.0.0/8", "::ffff:127.0.0.1"));
  EXPECT_FALSE(contains("::1/128", "127.0.0.1"));
}

TEST(Cidr, BadInputIsRefused) {
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Cidr::parse("::/129").ok());
  EXPECT_FALSE(Cidr::parse("example.com").ok());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x").ok());
  EXPECT_FALSE(Cidr::parse("").ok());
}

}  // namespace
}  // namespace ringmta
