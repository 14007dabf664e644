// tests/engine/inbound/client_limits_test.cc — per-IP limits: counts per address
// (IPv6 per /64, IPv4-mapped as IPv4), fixed windows, slots given back.
#include <arpa/inet.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/inbound/client_limits.h"

namespace ringmta {
namespace {

sockaddr_storage addr(const char* text) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr), 1) << text;
    ss.ss_family = AF_INET6;
  }
  return ss;
}

const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

using V = ClientLimits::Verdict;

TEST(ClientLimitsTest, ConnectionsPerAddress) {
  ClientLimits limits({.max_connections = 2, .max_connect_rate = 0, .max_auth_failures = 0});
  auto a = addr("192.0.2.1"), b = addr("192.0.2.2");
  EXPECT_EQ(limits.admit(sa(a), 0), V::kOk);
  EXPECT_EQ(limits.admit(sa(a), 0), V::kOk);
  EXPECT_EQ(limits.admit(sa(a), 0), V::kTooManyConnections);
  EXPECT_EQ(limits.admit(sa(b), 0), V::kOk);  // another client is not affected
  limits.release(sa(a));
  EXPECT_EQ(limits.admit(sa(a), 0), V::kOk);
  EXPECT_EQ(limits.admit(sa(a), 0), V::kTooManyConnections);
}

TEST(ClientLimitsTest, Ipv6CountsPerSlash64AndMappedIpv4AsIpv4) {
  ClientLimits limits({.max_connections = 1, .max_connect_rate = 0, .max_auth_failures = 0});
  auto x = addr("2001:db8:1:2::1"), y = addr("2001:db8:1:2:ffff::9"), z = addr("2001:db8:1:3::1");
  EXPECT_EQ(limits.admit(sa(x), 0), V::kOk);
  EXPECT_EQ(limits.admit(sa(y), 0), V::kTooManyConnections);  // same /64
  EXPECT_EQ(limits.admit(sa(z), 0), V::kOk);
  auto v4 = addr("198.51.100.7"), mapped = addr("::ffff:198.51.100.7");
  EXPECT_EQ(limits.admit(sa(v4), 0), V::kOk);
  EXPECT_EQ(limits.admit(sa(mapped), 0), V::kTooManyConnections);
}

TEST(ClientLimitsTest, ConnectRateWindows) {
  ClientLimits limits({.max_connections = 0, .max_connect_rate = 3, .max_auth_failures = 0});
  auto a = addr("192.0.2.1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limits.admit(sa(a), 5000), V::kOk);
  }
  EXPECT_EQ(limits.admit(sa(a), 5999), V::kTooFast);
  EXPECT_EQ(limits.admit(sa(a), 6000), V::kOk);  // a new second
}

TEST(ClientLimitsTest, AuthFailuresPerMinute) {
  ClientLimits limits({.max_connections = 0, .max_connect_rate = 0, .max_auth_failures = 2});
  auto a = addr("192.0.2.1"), b = addr("192.0.2.2");
  EXPECT_FALSE(limits.auth_blocked(sa(a), 0));
  limits.auth_failed(sa(a), 0);
  EXPECT_FALSE(limits.auth_blocked(sa(a), 0));
  limits.auth_failed(sa(a), 1000);
  EXPECT_TRUE(limits.auth_blocked(sa(a), 59999));
  EXPECT_FALSE(limits.auth_blocked(sa(b), 59999));
  EXPECT_FALSE(limits.auth_blocked(sa(a), 60000));  // the next minute
}

TEST(ClientLimitsTest, ZeroTurnsAllOff) {
  ClientLimits limits({.max_connections = 0, .max_connect_rate = 0, .max_auth_failures = 0});
  auto a = addr("192.0.2.1");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limits.admit(sa(a), 0), V::kOk);
    limits.auth_failed(sa(a), 0);
  }
  EXPECT_FALSE(limits.auth_blocked(sa(a), 0));
}

TEST(ClientLimitsTest, ManyClientsDoNotStandInEachOthersWay) {
  // 10,000 clients connected at once, a limit of 5 each: a count-min sketch
  // refuses a client early only if both of its cells also hold 5 other
  // connections (~1e-7 here). Each client's fifth connection is allowed.
  ClientLimits limits({.max_connections = 5, .max_connect_rate = 0, .max_auth_failures = 0});
  int refused = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    sockaddr_storage ss{};
    ss.ss_family = AF_INET;
    reinterpret_cast<sockaddr_in*>(&ss)->sin_addr.s_addr = htonl(0x0a000000 + i);
    refused += limits.admit(sa(ss), 0) != V::kOk;
  }
  EXPECT_EQ(refused, 0);
}

TEST(ClientLimitsTest, ThreadsCountTogether) {
  // Shards admit and release at once: the shared count stays exact.
  ClientLimits limits({.max_connections = 40000, .max_connect_rate = 0, .max_auth_failures = 0});
  auto a = addr("192.0.2.1");
  std::atomic<int> refused{0};
  auto many = [&](bool admit) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) {
          if (admit) {
            refused += limits.admit(sa(a), 0) != V::kOk;
          } else {
            limits.release(sa(a));
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  many(true);
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(limits.admit(sa(a), 0), V::kTooManyConnections);
  many(false);
  EXPECT_EQ(limits.admit(sa(a), 0), V::kOk);
}

}  // namespace
}  // namespace ringmta
