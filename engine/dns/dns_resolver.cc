#include "engine/dns/dns_resolver.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "engine/dns/dns_message.h"

namespace ringmta {
namespace {

// RFC 1035 §2.3.4: 255 octets on the wire, so 253 characters of text.
constexpr size_t kMaxNameLength = 253;

const char* type_name(uint16_t type) {
  switch (type) {
    case kDnsTypeMx:
      return "MX";
    case kDnsTypeA:
      return "A";
    case kDnsTypeAaaa:
      return "AAAA";
  }
  return "?";
}

std::string cache_key(uint16_t type, std::string_view name) {
  return absl::StrCat(type, ":", av(name));
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return c > ' ' && c < 0x7F && c != '\\';
         });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::create(Ring* ring, ResolverOptions options) {
  absl::StatusOr<std::unique_ptr<DnsChannel>> ch =
      DnsChannel::create(ring, {options.servers, options.timeout_ms, options.tries});
  if (!ch.ok()) {
    return ch.status();
  }
  return std::unique_ptr<Resolver>(new Resolver(std::move(*ch), std::move(options)));
}

Resolver::Resolver(std::unique_ptr<DnsChannel> channel, ResolverOptions options)
    : _channel(std::move(channel)),
      _options(std::move(options)),
      _rng(_options.seed != 0 ? _options.seed : std::random_device{}()),
      _cache(_options.cache_entries) {}

// The channel goes first: its destruction ends queries that the jobs
// below are waiting for, and it reports nothing back while being destroyed.
Resolver::~Resolver() { _channel.reset(); }

int64_t Resolver::now_ms() const {
  if (_options.clock_ms) {
    return _options.clock_ms();
  }
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

void Resolver::resolve_mx(std::string_view domain, MxCallback callback) {
  std::string name = normalize_dns_name(domain);
  if (!valid_name(name)) {
    refuse(absl::StrCat("not a domain name: \"", av(domain.substr(0, 300)), "\""), callback);
    return;
  }
  Job* job = start(name, name, callback);
  if (job == nullptr) {
    return;
  }
  if (const RrSet* mx = fetch(job, kDnsTypeMx, job->domain)) {
    RrSet copy = *mx;  // on_mx may insert into the cache, moving its entries
    on_mx(job, copy);
  }
  drain();
}

void Resolver::resolve_host(std::string_view host, MxCallback callback) {
  std::string name = normalize_dns_name(host);
  if (!valid_name(name)) {
    refuse(absl::StrCat("not a host name: \"", av(host.substr(0, 300)), "\""), callback);
    return;
  }
  Job* job = start(absl::StrCat("[", name, "]"), name, callback);
  if (job == nullptr) {
    return;
  }
  job->mx = {MxRecord{0, job->domain}};
  job->hosts.try_emplace(job->domain);
  lookup_hosts(job);
  drain();
}

void Resolver::refuse(std::string error, MxCallback& callback) {
  MxRoute route;
  route.status = MxStatus::kNoDomain;
  route.error = std::move(error);
  _ready.push_back(Ready{{std::move(callback)}, std::move(route)});
  ++_stats.routes;
}

Resolver::Job* Resolver::start(std::string key, std::string name, MxCallback& callback) {
  auto it = _jobs.find(key);
  if (it != _jobs.end()) {
    ++_stats.coalesced;
    it->second->callbacks.push_back(std::move(callback));
    return nullptr;
  }
  auto owned = std::make_unique<Job>();
  Job* job = owned.get();
  job->key = key;
  job->domain = std::move(name);
  job->callbacks.push_back(std::move(callback));
  _jobs.emplace(std::move(key), std::move(owned));
  return job;
}

const Resolver::RrSet* Resolver::fetch(Job* job, uint16_t type, const std::string& name) {
  std::string key = cache_key(type, name);
  if (const RrSet* hit = _cache.get(key, now_ms())) {
    ++_stats.cache_hits;
    return hit;
  }
  std::vector<Job*>& waiters = _waiting[key];
  if (waiters.empty()) {
    ++_stats.queries;
    _channel->query(name, type);  // a reply, even an immediate one, waits for drain()
  } else {
    ++_stats.coalesced;
  }
  waiters.push_back(job);
  return nullptr;
}

void Resolver::on_mx(Job* job, const RrSet& rr) {
  switch (rr.kind) {
    case RrKind::kTempFail:
      finish(job, MxRoute{MxStatus::kTempFail, {}, false, rr.error});
      return;
    case RrKind::kNoDomain:
      finish(job, MxRoute{MxStatus::kNoDomain, {}, false, rr.error});
      return;
    case RrKind::kNoData:
      // RFC 5321 §5.1: no MX records, so the domain is its own mail host.
      job->implicit = true;
      job->mx = {MxRecord{0, job->domain}};
      break;
    case RrKind::kOk:
      if (is_null_mx(rr.mx)) {
        finish(job, MxRoute{MxStatus::kNullMx, {}, false,
                            absl::StrCat(job->domain, " accepts no mail (null MX, RFC 7505)")});
        return;
      }
      job->mx = rr.mx;
      break;
  }
  // Ordered now, before the cut, so that the hosts left out of a long list
  // of equal preferences are a fresh random draw for every lookup.
  order_by_preference(job->mx, _rng);
  limit_mx_hosts(job->mx, _options.max_mx_hosts);
  for (const MxRecord& r : job->mx) {
    if (!r.host.empty()) {
      job->hosts.try_emplace(r.host);
    }
  }
  if (job->hosts.empty()) {
    finish(job, MxRoute{MxStatus::kNoAddress, {}, false,
                        absl::StrCat("the MX records of ", job->domain, " name no host")});
    return;
  }
  lookup_hosts(job);
}

// lookup_hosts asks for the A and AAAA records of every host of the job.
void Resolver::lookup_hosts(Job* job) {
  // Count every lookup before starting any, so that answers from the cache
  // cannot bring the count to zero while others are still to be asked.
  job->outstanding = static_cast<int>(job->hosts.size()) * 2;
  std::vector<std::string> names;
  for (const auto& [host, answer] : job->hosts) {
    names.push_back(host);
  }
  for (const std::string& host : names) {
    for (uint16_t type : {kDnsTypeA, kDnsTypeAaaa}) {
      if (const RrSet* hit = fetch(job, type, host)) {
        on_host(job, type, host, *hit);
        --job->outstanding;
      }
    }
  }
  if (job->outstanding == 0) {
    finish_hosts(job);
  }
}

void Resolver::on_host(Job* job, uint16_t type, const std::string& host, const RrSet& rr) {
  HostAnswer& h = job->hosts[host];
  if (rr.kind == RrKind::kOk) {
    // IPv4 first: the A answer may come second, so insert rather than append.
    auto at = type == kDnsTypeA ? h.addresses.begin() : h.addresses.end();
    h.addresses.insert(at, rr.addresses.begin(), rr.addresses.end());
    return;
  }
  h.temp_failed = h.temp_failed || rr.kind == RrKind::kTempFail;
  if (type == kDnsTypeA || h.error.empty()) {
    h.error = rr.error;
  }
}

void Resolver::finish_hosts(Job* job) {
  finish(job, assemble_route(job->domain, job->mx, job->implicit, job->hosts));
}

void Resolver::finish(Job* job, MxRoute route) {
  _stats.routes += job->callbacks.size();
  _ready.push_back(Ready{std::move(job->callbacks), std::move(route)});
  std::string key = std::move(job->key);
  _jobs.erase(key);  // frees `job`
}

Resolver::RrSet Resolver::to_rrset(const DnsReply& reply, uint32_t* ttl_s) const {
  RrSet rr;
  *ttl_s = 0;
  std::string what = absl::StrCat("DNS ", type_name(reply.type), " lookup of ", reply.name);
  bool answered = reply.status == ARES_SUCCESS || reply.status == ARES_ENODATA ||
                  reply.status == ARES_ENOTFOUND;
  if (reply.status == ARES_EBADNAME) {
    rr.kind = RrKind::kNoDomain;
    rr.error = absl::StrCat(what, ": not a valid name");
    return rr;
  }
  if (!answered || reply.message.empty()) {
    rr.error = absl::StrCat(what, ": ", ares_strerror(reply.status));
    return rr;
  }
  absl::StatusOr<DnsAnswer> a = parse_dns_answer(reply.message, reply.name, reply.type);
  if (!a.ok()) {
    rr.error = absl::StrCat(what, ": ", a.status().message());
    return rr;
  }
  uint32_t negative = a->has_soa ? a->negative_ttl : _options.default_negative_ttl_s;
  negative = std::min(negative, _options.max_negative_ttl_s);
  if (a->rcode == kDnsRcodeNxDomain) {
    rr.kind = RrKind::kNoDomain;
    rr.error = absl::StrCat(what, ": no such domain (NXDOMAIN)");
    *ttl_s = negative;
  } else if (a->rcode != kDnsRcodeNoError) {
    rr.error = absl::StrCat(what, ": server answered rcode ", a->rcode);
  } else if (a->mx.empty() && a->addresses.empty()) {
    rr.kind = RrKind::kNoData;
    rr.error = absl::StrCat(what, ": no records");
    *ttl_s = negative;
  } else {
    rr.kind = RrKind::kOk;
    rr.mx = std::move(a->mx);
    rr.addresses = std::move(a->addresses);
    *ttl_s = std::min(a->ttl, _options.max_ttl_s);
  }
  return rr;
}

void Resolver::deliver(DnsReply& reply) {
  uint32_t ttl_s = 0;
  RrSet rr = to_rrset(reply, &ttl_s);
  std::string key = cache_key(reply.type, reply.name);
  auto it = _waiting.find(key);
  std::vector<Job*> waiters;
  if (it != _waiting.end()) {
    waiters = std::move(it->second);
    _waiting.erase(it);
  }
  if (rr.kind != RrKind::kTempFail) {
    _cache.put(key, rr, ttl_s, now_ms());
  }
  for (Job* job : waiters) {
    if (reply.type == kDnsTypeMx) {
      on_mx(job, rr);
      continue;
    }
    on_host(job, reply.type, reply.name, rr);
    if (--job->outstanding == 0) {
      finish_hosts(job);
    }
  }
}

void Resolver::drain() {
  // Delivering can send queries, and c-ares may answer some at once (no
  // server reachable): keep going until no reply is left.
  while (_channel->has_replies()) {
    for (DnsReply& reply : _channel->take_replies()) {
      deliver(reply);
    }
  }
}

void Resolver::on_cqe(const io_uring_cqe* cqe) {
  _channel->on_cqe(cqe);
  drain();
}

void Resolver::run_deferred() {
  _channel->process_timeouts();
  drain();
  // Only the callbacks ready now: one that calls resolve_mx and hits the
  // cache queues its answer for the next iteration instead of looping here.
  std::vector<Ready> ready = std::exchange(_ready, {});
  for (Ready& r : ready) {
    for (MxCallback& cb : r.callbacks) {
      cb(r.route);
    }
  }
}

int64_t Resolver::wait_bound_us() const {
  if (!_ready.empty()) {
    return 0;
  }
  return _channel->wait_bound_us();
}

size_t Resolver::in_flight() const {
  size_t n = 0;
  for (const auto& [domain, job] : _jobs) {
    n += job->callbacks.size();
  }
  for (const Ready& r : _ready) {
    n += r.callbacks.size();
  }
  return n;
}

}  // namespace ringmta
