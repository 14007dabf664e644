// engine/dns/dns_resolver.h — a shard's MX routing by DNS: the MX lookup, the
// A and AAAA lookups of each MX host, a TTL cache, and coalescing of equal
// lookups, over one c-ares channel driven from the shard's ring
// (engine/dns/dns_channel.h). One per shard; only the shard's thread touches it.
//
//   auto r = Resolver::create(ring, {.servers = "127.0.0.1:5353"});
//   (*r)->resolve_mx("example.test", [](const MxRoute& route) { ... });
//   // the shard's loop, each iteration:
//   timeout_us = min(timeout_us, resolver->wait_bound_us());
//   ring->submit_and_wait(1, timeout_us);
//   ... cqe with Op::kDns  → resolver->on_cqe(cqe);
//   resolver->run_deferred();          // callbacks run here, and only here
//
// Callbacks never run inside resolve_mx, not even for a cache hit, and not
// inside on_cqe: only in run_deferred, so a caller is never re-entered and
// may call resolve_mx again from a callback (that one runs next iteration).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/dns/dns_cache.h"
#include "engine/dns/dns_channel.h"
#include "engine/dns/mx_route.h"
#include "engine/runtime/ring.h"

namespace ringmta {

struct ResolverOptions {
  // servers: "127.0.0.1:5353" or a comma-separated list; empty means the
  // servers in /etc/resolv.conf.
  std::string servers;
  int timeout_ms = 2000;  // c-ares' first-try timeout; doubled each round
  int tries = 2;
  // seed for shuffling MX hosts of equal preference; 0 draws one.
  uint64_t seed = 0;
  // max_mx_hosts: MX hosts looked up per domain, best preferences first
  // (ties drawn at random); the rest are ignored.
  size_t max_mx_hosts = 10;
  size_t cache_entries = 10000;  // answers kept, MX and A and AAAA together
  uint32_t max_ttl_s = 86400;
  // Negative answers (NXDOMAIN, no records) are kept for the SOA's minimum
  // (RFC 2308), or default_negative_ttl_s without a SOA, at most
  // max_negative_ttl_s: a domain fixed by its owner is retried soon.
  uint32_t default_negative_ttl_s = 60;
  uint32_t max_negative_ttl_s = 300;
  // clock_ms is the cache's clock; empty means CLOCK_MONOTONIC. Tests
  // inject one to expire entries without sleeping.
  std::function<int64_t()> clock_ms;
};

struct ResolverStats {
  uint64_t queries = 0;     // sent to the DNS server
  uint64_t cache_hits = 0;  // answers taken from the cache instead
  uint64_t coalesced = 0;   // lookups that joined one already in flight
  uint64_t routes = 0;      // resolve_mx calls answered
};

using MxCallback = std::function<void(const MxRoute& route)>;

class Resolver {
 public:
  static absl::StatusOr<std::unique_ptr<Resolver>> create(Ring* ring, ResolverOptions options);
  // ~Resolver drops unanswered lookups without calling their callbacks.
  // Destroy it before its Ring; completions tagged Op::kDns that arrive
  // afterwards must be dropped by the shard.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // resolve_mx finds where mail for `domain` goes; `callback` runs once,
  // from a later run_deferred. Concurrent calls for one domain share one
  // lookup.
  void resolve_mx(std::string_view domain, MxCallback callback);
  // resolve_host: the A and AAAA addresses of one host, as a route of that
  // one host (a route or relay host given by name: Postfix's [host], no MX
  // lookup). The same callback contract as resolve_mx.
  void resolve_host(std::string_view host, MxCallback callback);
  // on_cqe takes a completion tagged Op::kDns.
  void on_cqe(const io_uring_cqe* cqe);
  // run_deferred lets c-ares handle due timeouts and runs the callbacks of
  // finished lookups. Call it once per loop iteration, after completions.
  void run_deferred();
  // wait_bound_us says how long the shard may sleep: 0 when callbacks are
  // waiting, -1 when nothing is in flight, else until c-ares' next timeout.
  int64_t wait_bound_us() const;

  const ResolverStats& stats() const { return _stats; }
  // in_flight counts lookups not yet called back.
  size_t in_flight() const;

 private:
  // RrSet is one answer (MX, A or AAAA for one name), as cached.
  enum class RrKind : uint8_t { kOk, kNoData, kNoDomain, kTempFail };
  struct RrSet {
    RrKind kind = RrKind::kTempFail;
    std::vector<MxRecord> mx;
    std::vector<sockaddr_storage> addresses;
    std::string error;
  };
  struct Job {
    std::string key;  // in _jobs: the domain, or "[host]" for resolve_host
    std::string domain;
    std::vector<MxCallback> callbacks;
    std::vector<MxRecord> mx;
    bool implicit = false;
    absl::flat_hash_map<std::string, HostAnswer> hosts;
    int outstanding = 0;
  };
  struct Ready {
    std::vector<MxCallback> callbacks;
    MxRoute route;
  };

  Resolver(std::unique_ptr<DnsChannel> channel, ResolverOptions options);
  int64_t now_ms() const;
  // fetch returns the cached answer, or nullptr after making `job` wait for
  // it (sending the query unless one is in flight already).
  const RrSet* fetch(Job* job, uint16_t type, const std::string& name);
  // refuse: answers `callback` (later, like any answer) that the name is
  // not one DNS could look up.
  void refuse(std::string error, MxCallback& callback);
  // start: a new job for `key`, or null after joining the one in flight.
  Job* start(std::string key, std::string name, MxCallback& callback);
  void on_mx(Job* job, const RrSet& rr);
  void lookup_hosts(Job* job);
  void on_host(Job* job, uint16_t type, const std::string& host, const RrSet& rr);
  void finish(Job* job, MxRoute route);
  void finish_hosts(Job* job);
  void deliver(DnsReply& reply);
  void drain();
  RrSet to_rrset(const DnsReply& reply, uint32_t* ttl_s) const;

  std::unique_ptr<DnsChannel> _channel;
  ResolverOptions _options;
  std::mt19937_64 _rng;
  DnsCache<RrSet> _cache;
  absl::flat_hash_map<std::string, std::unique_ptr<Job>> _jobs;  // by domain
  absl::flat_hash_map<std::string, std::vector<Job*>> _waiting;  // by cache key
  std::vector<Ready> _ready;
  ResolverStats _stats;
};

}  // namespace ringmta
