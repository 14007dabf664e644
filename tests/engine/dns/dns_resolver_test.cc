// The resolver against a real DNS server: a dnsmasq on a free loopback
// port, started here with the records each test needs. Never the machine's
// own resolver.
#include "engine/dns/dns_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

int64_t clock_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// bound_udp returns a UDP socket bound to a free loopback port (and the port).
int bound_udp(int* port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

std::string text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

std::vector<std::string> names(const MxRoute& r) {
  std::vector<std::string> out;
  for (const MxHost& h : r.hosts) {
    out.push_back(h.name);
  }
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kDnsmasq, X_OK) != 0) {
      _error = absl::StrCat(kDnsmasq, " not found: install the dnsmasq-base package");
      return;
    }
    int probe = bound_udp(&_port);
    if (probe < 0) {
      _error = "no free loopback UDP port for dnsmasq";
      return;
    }
    close(probe);
    std::vector<std::string> args = {
        kDnsmasq, "--keep-in-foreground", absl::StrCat("--port=", _port),
        "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--local=/test/", "--local-ttl=300",
        "--mx-host=example.test,mx1.example.test,10", "--mx-host=example.test,mx2.example.test,20",
        "--host-record=mx1.example.test,127.0.0.2", "--host-record=mx2.example.test,127.0.0.3,::1",
        "--mx-host=share.test,mx1.example.test,10", "--mx-host=nullmx.test,.,0",
        "--host-record=implicit.test,127.0.0.9", "--txt-record=noaddr.test,no-address-here",
        "--mx-host=shuffle.test,first.shuffle.test,5"};
    for (const char* h : {"first", "a", "b", "c", "d"}) {
      if (std::string(h) != "first") {
        args.push_back(absl::StrCat("--mx-host=shuffle.test,", h, ".shuffle.test,10"));
      }
      args.push_back(absl::StrCat("--host-record=", h, ".shuffle.test,127.0.1.1"));
    }
    // Enough MX records that the answer exceeds the EDNS size: dnsmasq
    // truncates it and c-ares asks again over TCP.
    for (int i = 0; i < 40; ++i) {
      args.push_back(absl::StrCat("--mx-host=big.test,mx", i,
                                  "-with-a-rather-long-label-to-fill-the-packet.big.test,", i));
    }
    args.push_back("--host-record=mx7-with-a-rather-long-label-to-fill-the-packet.big.test,127.0.2.7");
    _pid = fork();
    if (_pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::vector<char*> argv;
      for (std::string& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      execv(kDnsmasq, argv.data());
      _exit(127);
    }
    if (!wait_until_serving()) {
      _error = absl::StrCat("dnsmasq did not answer on 127.0.0.1:", _port, " within 5 s");
    }
  }

  static void TearDownTestSuite() {
    if (_pid > 0) {
      kill(_pid, SIGTERM);
      waitpid(_pid, nullptr, 0);
      _pid = -1;
    }
  }

  // wait_until_serving sends a fixed A query for mx1.example.test until
  // dnsmasq answers (blocking is fine on a test thread).
  static bool wait_until_serving() {
    static const unsigned char query[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                          3, 'm', 'x', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l',
                                          'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    for (int i = 0; i < 50 && !ok; ++i) {
      sendto(fd, query, sizeof(query), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
      char buf[512];
      ok = recv(fd, buf, sizeof(buf), 0) > 12;
      if (!ok) {
        usleep(100000);
      }
    }
    close(fd);
    return ok;
  }

  void SetUp() override {
    ASSERT_TRUE(_error.empty()) << _error;
    auto ring = Ring::create(64);
    ASSERT_TRUE(ring.ok()) << ring.status();
    _ring = std::move(*ring);
  }

  ResolverOptions options() {
    ResolverOptions o;
    o.servers = absl::StrCat("127.0.0.1:", _port);
    o.timeout_ms = 500;
    o.tries = 2;
    o.seed = 7;
    return o;
  }

  std::unique_ptr<Resolver> make(ResolverOptions o) {
    auto r = Resolver::create(_ring.get(), std::move(o));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // step is one iteration of a shard's loop, as far as DNS is concerned.
  void step(Resolver* r, int64_t max_wait_us) {
    int64_t wait = r != nullptr ? r->wait_bound_us() : -1;
    if (wait < 0 || wait > max_wait_us) {
      wait = max_wait_us;
    }
    _ring->submit_and_wait(1, wait);
    _ring->for_each_cqe([&](io_uring_cqe* cqe) {
      if (decode(cqe->user_data).op == Op::kDns && r != nullptr) {
        r->on_cqe(cqe);
      }
    });
    if (r != nullptr) {
      r->run_deferred();
    }
  }

  // drive runs the loop until `done` or 5 s have passed.
  template <typename F>
  bool drive(Resolver& r, F done) {
    int64_t end = clock_ms() + 5000;
    while (!done()) {
      if (clock_ms() > end) {
        return false;
      }
      step(&r, 50000);
    }
    return true;
  }

  MxRoute resolve(Resolver& r, std::string_view domain) {
    MxRoute out;
    bool done = false;
    r.resolve_mx(domain, [&](const MxRoute& route) {
      out = route;
      done = true;
    });
    EXPECT_TRUE(drive(r, [&] { return done; })) << "no answer for " << domain;
    return out;
  }

  static inline int _port = 0;
  static inline pid_t _pid = -1;
  static inline std::string _error;
  std::unique_ptr<Ring> _ring;
};

TEST_F(ResolverTest, OrdersMxHostsByPreferenceWithTheirAddresses) {
  auto r = make(options());
  MxRoute route = resolve(*r, "Example.TEST.");
  ASSERT_EQ(route.status, MxStatus::kOk) << route.error;
  EXPECT_FALSE(route.implicit);
  ASSERT_EQ(names(route), (std::vector<std::string>{"mx1.example.test", "mx2.example.test"}));
  EXPECT_EQ(route.hosts[0].preference, 10);
  ASSERT_EQ(route.hosts[0].addresses.size(), 1u);  // no AAAA: not a failure
  EXPECT_EQ(text(route.hosts[0].addresses[0]), "127.0.0.2");
  // A first, then AAAA; ports left for the caller.
  ASSERT_EQ(route.hosts[1].addresses.size(), 2u);
  EXPECT_EQ(text(route.hosts[1].addresses[0]), "127.0.0.3");
  EXPECT_EQ(text(route.hosts[1].addresses[1]), "::1");
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(&route.hosts[1].addresses[1])->sin6_port, 0);
  EXPECT_EQ(r->stats().queries, 5u);  // MX, then A and AAAA of two hosts
}

TEST_F(ResolverTest, ShufflesEqualPreferencesBySeed) {
  ResolverOptions o = options();
  o.seed = 42;
  auto r1 = make(o);
  auto r2 = make(o);
  std::set<std::string> leaders;
  for (int i = 0; i < 40; ++i) {
    MxRoute a = resolve(*r1, "shuffle.test");
    MxRoute b = resolve(*r2, "shuffle.test");
    ASSERT_EQ(a.status, MxStatus::kOk) << a.error;
    ASSERT_EQ(a.hosts.size(), 5u);
    EXPECT_EQ(names(a), names(b)) << "same seed, same order";
    EXPECT_EQ(a.hosts[0].name, "first.shuffle.test");
    leaders.insert(a.hosts[1].name);
  }
  EXPECT_EQ(leaders.size(), 4u) << "each of the four preference-10 hosts leads sometimes";
}

TEST_F(ResolverTest, NoMxMeansTheDomainIsItsOwnMx) {
  auto r = make(options());
  MxRoute route = resolve(*r, "implicit.test");
  ASSERT_EQ(route.status, MxStatus::kOk) << route.error;
  EXPECT_TRUE(route.implicit);
  ASSERT_EQ(names(route), (std::vector<std::string>{"implicit.test"}));
  ASSERT_EQ(route.hosts[0].addresses.size(), 1u);
  EXPECT_EQ(text(route.hosts[0].addresses[0]), "127.0.0.9");
}

TEST_F(ResolverTest, NoMxAndNoAddressIsPermanent) {
  auto r = make(options());
  MxRoute route = resolve(*r, "noaddr.test");
  EXPECT_EQ(route.status, MxStatus::kNoAddress) << route.error;
  EXPECT_TRUE(route.implicit);
  EXPECT_TRUE(mx_status_is_permanent(route.status));
  EXPECT_NE(route.error.find("noaddr.test"), std::string::npos) << route.error;
}

TEST_F(ResolverTest, NullMx) {
  auto r = make(options());
  MxRoute route = resolve(*r, "nullmx.test");
  EXPECT_EQ(route.status, MxStatus::kNullMx) << route.error;
  EXPECT_TRUE(route.hosts.empty());
  EXPECT_EQ(r->stats().queries, 1u);  // no host to look up
}

TEST_F(ResolverTest, NxDomainIsPermanentAndCachedBriefly) {
  int64_t now = 1000000;
  ResolverOptions o = options();
  o.clock_ms = [&now] { return now; };
  auto r = make(o);
  MxRoute route = resolve(*r, "nope.test");
  EXPECT_EQ(route.status, MxStatus::kNoDomain);
  EXPECT_NE(route.error.find("NXDOMAIN"), std::string::npos) << route.error;
  EXPECT_EQ(resolve(*r, "nope.test").status, MxStatus::kNoDomain);
  EXPECT_EQ(r->stats().queries, 1u);
  now += 61000;  // dnsmasq sends no SOA: the 60 s default applies
  EXPECT_EQ(resolve(*r, "nope.test").status, MxStatus::kNoDomain);
  EXPECT_EQ(r->stats().queries, 2u);
}

TEST_F(ResolverTest, BadNameFailsWithoutAQuery) {
  auto r = make(options());
  MxRoute route = resolve(*r, "not a domain");
  EXPECT_EQ(route.status, MxStatus::kNoDomain);
  EXPECT_EQ(r->stats().queries, 0u);
}

TEST_F(ResolverTest, RefusedPortIsATemporaryFailureAndNotCached) {
  int port = 0;
  int fd = bound_udp(&port);
  ASSERT_GE(fd, 0);
  close(fd);  // now nothing listens there: the kernel refuses
  ResolverOptions o = options();
  o.servers = absl::StrCat("127.0.0.1:", port);
  o.timeout_ms = 100;
  o.tries = 3;
  auto r = make(o);
  MxRoute route = resolve(*r, "example.test");
  EXPECT_EQ(route.status, MxStatus::kTempFail);
  EXPECT_FALSE(route.error.empty());
  EXPECT_EQ(resolve(*r, "example.test").status, MxStatus::kTempFail);
  EXPECT_EQ(r->stats().queries, 2u);
}

TEST_F(ResolverTest, SilentServerTimesOut) {
  int port = 0;
  int blackhole = bound_udp(&port);  // bound, never read: queries vanish
  ASSERT_GE(blackhole, 0);
  ResolverOptions o = options();
  o.servers = absl::StrCat("127.0.0.1:", port);
  o.timeout_ms = 100;
  o.tries = 2;
  auto r = make(o);
  int64_t start = clock_ms();
  MxRoute route = resolve(*r, "example.test");
  int64_t took = clock_ms() - start;
  close(blackhole);
  EXPECT_EQ(route.status, MxStatus::kTempFail);
  EXPECT_NE(route.error.find("Timeout"), std::string::npos) << route.error;
  EXPECT_GE(took, 100);
  EXPECT_LT(took, 2000) << "c-ares' deadline must bound the loop's sleep";
}

TEST_F(ResolverTest, SecondLookupComesFromTheCacheAndIsStillDeferred) {
  auto r = make(options());
  ASSERT_EQ(resolve(*r, "example.test").status, MxStatus::kOk);
  ASSERT_EQ(r->stats().queries, 5u);
  bool called = false;
  r->resolve_mx("example.test", [&](const MxRoute& route) {
    EXPECT_EQ(route.status, MxStatus::kOk);
    called = true;
  });
  EXPECT_FALSE(called) << "a cache hit must not call back from inside resolve_mx";
  EXPECT_EQ(r->wait_bound_us(), 0) << "a ready callback must keep the loop awake";
  r->run_deferred();
  EXPECT_TRUE(called);
  EXPECT_EQ(r->stats().queries, 5u);
  EXPECT_EQ(r->stats().cache_hits, 5u);
}

TEST_F(ResolverTest, EntriesExpireWithTheirTtl) {
  int64_t now = 1000000;
  ResolverOptions o = options();
  o.clock_ms = [&now] { return now; };
  auto r = make(o);
  ASSERT_EQ(resolve(*r, "example.test").status, MxStatus::kOk);
  now += 59000;
  ASSERT_EQ(resolve(*r, "example.test").status, MxStatus::kOk);
  EXPECT_EQ(r->stats().queries, 5u);
  // mx1 has no AAAA: that negative answer (no SOA from dnsmasq) lasts 60 s.
  now += 2000;
  ASSERT_EQ(resolve(*r, "example.test").status, MxStatus::kOk);
  EXPECT_EQ(r->stats().queries, 6u);
  // The rest has dnsmasq's --local-ttl=300.
  now += 240000;
  ASSERT_EQ(resolve(*r, "example.test").status, MxStatus::kOk);
  EXPECT_EQ(r->stats().queries, 11u);
}

TEST_F(ResolverTest, ConcurrentLookupsShareQueries) {
  auto r = make(options());
  int answered = 0;
  for (const char* d : {"example.test", "example.test", "EXAMPLE.test", "share.test"}) {
    r->resolve_mx(d, [&](const MxRoute& route) {
      EXPECT_EQ(route.status, MxStatus::kOk) << route.error;
      ++answered;
    });
  }
  EXPECT_EQ(r->in_flight(), 4u);
  ASSERT_TRUE(drive(*r, [&] { return answered == 4; }));
  // Two MX queries, and mx1's A and AAAA asked once for both domains.
  EXPECT_EQ(r->stats().queries, 6u);
  EXPECT_EQ(r->stats().routes, 4u);
  EXPECT_EQ(r->in_flight(), 0u);
}

TEST_F(ResolverTest, TruncatedAnswerIsRetriedOverTcp) {
  auto r = make(options());
  MxRoute route = resolve(*r, "big.test");
  ASSERT_EQ(route.status, MxStatus::kOk) << route.error;
  ASSERT_EQ(route.hosts.size(), 1u);  // the only one of the 40 with an address
  EXPECT_EQ(route.hosts[0].preference, 7);
  // The MX query, then A and AAAA for the ten best hosts only.
  EXPECT_EQ(r->stats().queries, 21u);
}

TEST_F(ResolverTest, DestroyingWithLookupsInFlightCallsNothing) {
  int port = 0;
  int blackhole = bound_udp(&port);
  ASSERT_GE(blackhole, 0);
  ResolverOptions o = options();
  o.servers = absl::StrCat("127.0.0.1:", port);
  auto r = make(o);
  bool called = false;
  r->resolve_mx("example.test", [&](const MxRoute&) { called = true; });
  step(r.get(), 10000);
  r.reset();
  // The removed poll's completion arrives with no resolver left: dropped.
  for (int i = 0; i < 3; ++i) {
    step(nullptr, 10000);
  }
  close(blackhole);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace ringmta
