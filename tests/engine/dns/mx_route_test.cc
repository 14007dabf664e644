#include "engine/dns/mx_route.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <set>

namespace ringmta {
namespace {

sockaddr_storage v4(const char* text) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &a->sin_addr), 1) << text;
  return ss;
}

std::vector<std::string> hosts_of(const std::vector<MxRecord>& records) {
  std::vector<std::string> out;
  for (const MxRecord& r : records) {
    out.push_back(r.host);
  }
  return out;
}

TEST(MxRoute, NullMxIsOneRootRecordOfPreferenceZero) {
  EXPECT_TRUE(is_null_mx({{0, ""}}));
  EXPECT_FALSE(is_null_mx({{10, ""}}));
  EXPECT_FALSE(is_null_mx({{0, ""}, {10, "mx.example.test"}}));
  EXPECT_FALSE(is_null_mx({{0, "mx.example.test"}}));
  EXPECT_FALSE(is_null_mx({}));
}

TEST(MxRoute, OrdersByPreferenceAndDropsRootRecords) {
  std::mt19937_64 rng(1);
  std::vector<MxRecord> r = {{30, "c"}, {10, "a"}, {20, ""}, {20, "b"}};
  order_by_preference(r, rng);
  EXPECT_EQ(hosts_of(r), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(MxRoute, ShufflesEqualPreferencesReproduciblyBySeed) {
  const std::vector<MxRecord> input = {{5, "first"}, {10, "a"}, {10, "b"}, {10, "c"},
                                       {10, "d"},    {20, "last"}};
  std::set<std::string> leaders;
  for (uint64_t seed = 1; seed <= 64; ++seed) {
    std::mt19937_64 rng1(seed);
    std::mt19937_64 rng2(seed);
    std::vector<MxRecord> r1 = input;
    std::vector<MxRecord> r2 = input;
    order_by_preference(r1, rng1);
    order_by_preference(r2, rng2);
    EXPECT_EQ(hosts_of(r1), hosts_of(r2)) << "seed " << seed;
    EXPECT_EQ(r1.front().host, "first");
    EXPECT_EQ(r1.back().host, "last");
    leaders.insert(r1[1].host);
  }
  // Every host of the tied preference leads the tie for some seed.
  EXPECT_EQ(leaders, (std::set<std::string>{"a", "b", "c", "d"}));
}

TEST(MxRoute, LimitKeepsTheFirstHostsAndAllTheirRecords) {
  std::vector<MxRecord> r = {{10, "a"}, {20, "b"}, {30, "a"}, {40, "c"}, {50, "d"}};
  limit_mx_hosts(r, 2);
  EXPECT_EQ(hosts_of(r), (std::vector<std::string>{"a", "b", "a"}));
  limit_mx_hosts(r, 10);
  EXPECT_EQ(r.size(), 3u);
}

TEST(MxRoute, AssemblesHostsWithAddressesInOrder) {
  absl::flat_hash_map<std::string, HostAnswer> hosts;
  hosts["a"] = HostAnswer{{v4("127.0.0.2")}, false, ""};
  hosts["b"] = HostAnswer{{}, false, "DNS A lookup of b: no records"};
  // A failed AAAA lookup does not spoil a host that has an IPv4 address.
  hosts["c"] = HostAnswer{{v4("127.0.0.3")}, true, "DNS AAAA lookup of c: timeout"};
  MxRoute r = assemble_route("example.test", {{10, "a"}, {20, "b"}, {30, "c"}, {40, "a"}},
                             false, hosts);
  ASSERT_EQ(r.status, MxStatus::kOk);
  ASSERT_EQ(r.hosts.size(), 2u);
  EXPECT_EQ(r.hosts[0].name, "a");
  EXPECT_EQ(r.hosts[0].preference, 10);
  EXPECT_EQ(r.hosts[1].name, "c");
  EXPECT_FALSE(r.implicit);
}

TEST(MxRoute, NoAddressAnywhereIsPermanentUnlessALookupFailedTransiently) {
  absl::flat_hash_map<std::string, HostAnswer> hosts;
  hosts["a"] = HostAnswer{{}, false, "DNS A lookup of a: no such domain (NXDOMAIN)"};
  MxRoute r = assemble_route("example.test", {{10, "a"}}, false, hosts);
  EXPECT_EQ(r.status, MxStatus::kNoAddress);
  EXPECT_TRUE(mx_status_is_permanent(r.status));
  EXPECT_NE(r.error.find("no MX host of example.test"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("NXDOMAIN"), std::string::npos) << r.error;

  hosts["b"] = HostAnswer{{}, true, "DNS A lookup of b: Timeout while contacting DNS servers"};
  r = assemble_route("example.test", {{10, "a"}, {20, "b"}}, false, hosts);
  EXPECT_EQ(r.status, MxStatus::kTempFail);
  EXPECT_FALSE(mx_status_is_permanent(r.status));
}

TEST(MxRoute, ImplicitRouteSaysSo) {
  absl::flat_hash_map<std::string, HostAnswer> hosts;
  hosts["example.test"] = HostAnswer{};
  MxRoute r = assemble_route("example.test", {{0, "example.test"}}, true, hosts);
  EXPECT_EQ(r.status, MxStatus::kNoAddress);
  EXPECT_TRUE(r.implicit);
  EXPECT_NE(r.error.find("no MX for example.test"), std::string::npos) << r.error;
}

TEST(MxRoute, StatusNames) {
  EXPECT_STREQ(mx_status_name(MxStatus::kNullMx), "null-mx");
  EXPECT_STREQ(mx_status_name(MxStatus::kTempFail), "temp-fail");
  EXPECT_TRUE(mx_status_is_permanent(MxStatus::kNoDomain));
  EXPECT_FALSE(mx_status_is_permanent(MxStatus::kOk));
}

}  // namespace
}  // namespace ringmta
