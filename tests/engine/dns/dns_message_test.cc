#include "engine/dns/dns_message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace ringmta {
namespace {

// Message builds DNS responses by hand, compression pointers included.
class Message {
 public:
  Message(int rcode, uint16_t qd, uint16_t an, uint16_t ns) {
    u16(0x1234);
    u16(static_cast<uint16_t>(0x8180 | rcode));
    u16(qd);
    u16(an);
    u16(ns);
    u16(0);
  }
  // name writes `dotted` uncompressed.
  Message& name(const std::string& dotted) {
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos) {
        dot = dotted.size();
      }
      _b.push_back(static_cast<char>(dot - start));
      _b.append(dotted, start, dot - start);
      start = dot + 1;
    }
    _b.push_back('\0');
    return *this;
  }
  Message& pointer(uint16_t offset) { return u16(static_cast<uint16_t>(0xC000 | offset)); }
  Message& question(const std::string& n, uint16_t type) { return name(n).u16(type).u16(1); }
  // rr_head writes type, class IN, ttl and rdlen after the owner name.
  Message& rr_head(uint16_t type, uint32_t ttl, uint16_t rdlen) {
    return u16(type).u16(1).u32(ttl).u16(rdlen);
  }
  Message& u16(uint16_t v) {
    _b.push_back(static_cast<char>(v >> 8));
    _b.push_back(static_cast<char>(v));
    return *this;
  }
  Message& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  Message& ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    _b.push_back(static_cast<char>(a));
    _b.push_back(static_cast<char>(b));
    _b.push_back(static_cast<char>(c));
    _b.push_back(static_cast<char>(d));
    return *this;
  }
  Message& raw(std::string_view s) {
    _b.append(s);
    return *this;
  }
  const std::string& str() const { return _b; }

 private:
  std::string _b;
};

constexpr uint16_t kQname = 12;  // offset of the question's name

TEST(DnsMessage, MxRecordsWithCompressionAndSmallestTtl) {
  Message m(0, 1, 2, 0);
  m.question("example.test", kDnsTypeMx);
  // Each exchange is one label and a pointer to the question's name.
  m.pointer(kQname).rr_head(kDnsTypeMx, 300, 2 + 4 + 2).u16(10).raw("\3mx1").pointer(kQname);
  m.pointer(kQname).rr_head(kDnsTypeMx, 120, 2 + 4 + 2).u16(20).raw("\3MX2").pointer(kQname);
  auto a = parse_dns_answer(m.str(), "example.test", kDnsTypeMx);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, 0);
  ASSERT_EQ(a->mx.size(), 2u);
  EXPECT_EQ(a->mx[0].preference, 10);
  EXPECT_EQ(a->mx[0].host, "mx1.example.test");
  EXPECT_EQ(a->mx[1].host, "mx2.example.test");  // lower-cased
  EXPECT_EQ(a->ttl, 120u);
}

TEST(DnsMessage, NullMxHostIsEmpty) {
  Message m(0, 1, 1, 0);
  m.question("nullmx.test", kDnsTypeMx);
  m.pointer(kQname).rr_head(kDnsTypeMx, 60, 3).u16(0).raw(std::string_view("\0", 1));
  auto a = parse_dns_answer(m.str(), "nullmx.test", kDnsTypeMx);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->mx.size(), 1u);
  EXPECT_EQ(a->mx[0].host, "");
  EXPECT_TRUE(is_null_mx(a->mx));
}

TEST(DnsMessage, FollowsCnameAndIgnoresStrangers) {
  Message m(0, 1, 3, 0);
  m.question("www.example.test", kDnsTypeA);
  m.pointer(kQname).rr_head(5, 50, 7).raw("\4host").pointer(kQname + 4);  // -> host.example.test
  m.name("other.test").rr_head(kDnsTypeA, 300, 4).ip4(127, 0, 0, 99);
  m.name("host.example.test").rr_head(kDnsTypeA, 300, 4).ip4(127, 0, 0, 2);
  auto a = parse_dns_answer(m.str(), "www.example.test", kDnsTypeA);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->addresses.size(), 1u);
  auto* v4 = reinterpret_cast<const sockaddr_in*>(&a->addresses[0]);
  EXPECT_EQ(v4->sin_family, AF_INET);
  EXPECT_EQ(ntohl(v4->sin_addr.s_addr), 0x7f000002u);
  EXPECT_EQ(v4->sin_port, 0);
  EXPECT_EQ(a->ttl, 50u);  // the CNAME's TTL bounds the answer's
}

TEST(DnsMessage, Aaaa) {
  Message m(0, 1, 1, 0);
  m.question("mx.test", kDnsTypeAaaa);
  std::string one(16, '\0');
  one[15] = 1;
  m.pointer(kQname).rr_head(kDnsTypeAaaa, 30, 16).raw(one);
  auto a = parse_dns_answer(m.str(), "mx.test", kDnsTypeAaaa);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->addresses.size(), 1u);
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a->addresses[0]);
  EXPECT_EQ(v6->sin6_family, AF_INET6);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
}

TEST(DnsMessage, NxDomainTakesNegativeTtlFromSoa) {
  Message m(3, 1, 0, 1);
  m.question("nope.test", kDnsTypeMx);
  // SOA: mname, rname, serial, refresh, retry, expire, minimum.
  m.pointer(kQname + 5).rr_head(6, 900, 2 + 2 + 20).pointer(kQname + 5).pointer(kQname + 5);
  m.u32(1).u32(2).u32(3).u32(4).u32(120);
  auto a = parse_dns_answer(m.str(), "nope.test", kDnsTypeMx);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->rcode, kDnsRcodeNxDomain);
  EXPECT_TRUE(a->has_soa);
  EXPECT_EQ(a->negative_ttl, 120u);
  EXPECT_TRUE(a->mx.empty());
}

TEST(DnsMessage, RejectsBrokenMessages) {
  EXPECT_FALSE(parse_dns_answer("short", "x.test", kDnsTypeA).ok());

  Message lots(0, 1, 60000, 0);
  lots.question("x.test", kDnsTypeA);
  EXPECT_FALSE(parse_dns_answer(lots.str(), "x.test", kDnsTypeA).ok());

  Message past(0, 1, 1, 0);
  past.question("x.test", kDnsTypeA);
  past.pointer(kQname).rr_head(kDnsTypeA, 30, 400).ip4(127, 0, 0, 1);
  EXPECT_FALSE(parse_dns_answer(past.str(), "x.test", kDnsTypeA).ok());

  Message loop(0, 1, 1, 0);
  loop.question("x.test", kDnsTypeA);
  uint16_t self = static_cast<uint16_t>(loop.str().size());
  loop.pointer(self).rr_head(kDnsTypeA, 30, 4).ip4(127, 0, 0, 1);
  EXPECT_FALSE(parse_dns_answer(loop.str(), "x.test", kDnsTypeA).ok());

  Message bad_len(0, 1, 1, 0);
  bad_len.question("x.test", kDnsTypeA);
  bad_len.pointer(kQname).rr_head(kDnsTypeA, 30, 3).raw(std::string_view("\x7f\0\0", 3));
  EXPECT_FALSE(parse_dns_answer(bad_len.str(), "x.test", kDnsTypeA).ok());
}

TEST(DnsMessage, NormalizesNames) {
  EXPECT_EQ(normalize_dns_name("Example.TEST."), "example.test");
  EXPECT_EQ(normalize_dns_name("example.test"), "example.test");
}

}  // namespace
}  // namespace ringmta
