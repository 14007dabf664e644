// engine/outbound/outbound_route.cc — routing, the first stage on the
// owner side: a nexthop (an MX domain or a fixed host) becomes a site and
// its targets; each job goes on to the shard that owns its (source, site)
// queue (outbound.h).
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/outbound/outbound.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"

namespace ringmta {
namespace {

// A routing answer is kept this long for the jobs that follow; then the
// next job asks again (the resolver's cache still honours the TTLs).
constexpr int64_t kRouteKeepMs = 60'000;

// site_of: the sorted, distinct MX host names. The order of preference
// does not name the site: two domains listing the same hosts are one
// receiving system with one set of limits (KumoMTA's mx_rollup).
std::string site_of(const MxRoute& route) {
  std::vector<absl::string_view> names;
  for (const MxHost& h : route.hosts) {
    names.push_back(h.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return absl::StrCat("mx:", absl::StrJoin(names, ","));
}

std::string tls_suffix(proto::TlsPolicy tls) {
  // Queues with different TLS policies never share connections.
  return tls == proto::TlsPolicy::kOpportunistic ? "" : absl::StrCat("/tls", static_cast<int>(tls));
}

// fixed_route: the site of a route or the relay host, without its targets.
std::shared_ptr<SiteRoute> fixed_route(const Nexthop& nh) {
  auto sr = std::make_shared<SiteRoute>();
  sr->site = absl::StrCat("[", nh.lmtp ? "lmtp:" : "", nh.name, "]", tls_suffix(nh.tls));
  sr->lmtp = nh.lmtp;
  return sr;
}

// unix_endpoint: an LMTP route's socket path as a connect() address.
absl::StatusOr<Endpoint> unix_endpoint(std::string_view path) {
  Endpoint ep;
  auto* un = reinterpret_cast<sockaddr_un*>(&ep.addr);
  if (path.empty() || path[0] != '/' || path.size() >= sizeof un->sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("expected an absolute socket path under ", sizeof un->sun_path,
                                                   " octets"));
  }
  un->sun_family = AF_UNIX;
  path.copy(un->sun_path, path.size());
  ep.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  ep.text = std::string(path);
  return ep;
}

// host_name_of: the host of a "NAME:PORT" route that is not an IP address,
// with its port; "" when it is not of that form.
std::string_view host_name_of(std::string_view text, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || text.front() == '[') {
    return {};
  }
  uint32_t p = 0;
  if (!absl::SimpleAtoi(av(text.substr(colon + 1)), &p) || p == 0 || p > 65535) {
    return {};
  }
  *port = static_cast<uint16_t>(p);
  return text.substr(0, colon);
}

// target_at: an address found in DNS with the port to connect to
// (network order).
Target target_at(const std::string& host, const sockaddr_storage& a, uint16_t port) {
  Target t;
  t.host = host;
  t.addr = a;
  if (a.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port = port;
    t.len = sizeof(sockaddr_in);
  } else {
    reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_port = port;
    t.len = sizeof(sockaddr_in6);
  }
  return t;
}

}  // namespace

Resolver* Outbound::resolver(std::string* error) {
  if (!_resolver) {
    ResolverOptions o;
    o.servers = _ctx.config.resolver;
    o.seed = _ctx.id + 1;
    absl::StatusOr<std::unique_ptr<Resolver>> r = Resolver::create(&_ctx.ring, o);
    if (!r.ok()) {
      // main() checked the resolver settings at start, so this is a failure
      // of the moment (no memory, no sockets): the destination is deferred
      // and the next job tries to make one again.
      *error = absl::StrCat("DNS resolver unavailable: ", r.status().message());
      log_error("shard %u: %s", _ctx.id, *error);
      return nullptr;
    }
    _resolver = std::move(*r);
  }
  return _resolver.get();
}

void Outbound::route(DeliveryJob&& job) {
  auto [it, fresh] = _routes.try_emplace(job.dest_key);
  RouteEntry& r = it->second;
  if (fresh) {
    r.nexthop = job.nexthop;
  }
  const bool current = r.resolved_ms >= 0 && monotonic_ms() - r.resolved_ms < kRouteKeepMs;
  if (current && !r.resolving) {
    forward(std::move(job), r);
    return;
  }
  r.waiting.push_back(std::move(job));
  if (!r.resolving) {
    resolve(it->first, r);
  }
}

void Outbound::resolve(const std::string& key, RouteEntry& r) {
  const bool unix_socket = r.nexthop.name.starts_with("unix:");
  absl::StatusOr<Endpoint> ep;
  std::string_view host;
  uint16_t port = 0;
  if (!r.nexthop.use_mx) {
    ep = unix_socket ? unix_endpoint(r.nexthop.name.substr(5)) : parse_endpoint(r.nexthop.name);
    if (!ep.ok() && !unix_socket) {
      host = host_name_of(r.nexthop.name, &port);  // "smtp.example.net:587": looked up below
    }
  }
  if (r.nexthop.use_mx || !host.empty()) {
    std::string error;
    if (Resolver* dns = resolver(&error); dns != nullptr) {
      r.resolving = true;
      if (r.nexthop.use_mx) {
        dns->resolve_mx(r.nexthop.name, [this, key](const MxRoute& route) { on_resolved(key, route); });
      } else {
        dns->resolve_host(host, [this, key, port](const MxRoute& route) { on_host_resolved(key, route, port); });
      }
      return;
    }
    r.resolved_ms = -1;  // not kept: the next job tries again
    r.defer("4.4.3", std::move(error));
    release_waiting(r);
    return;
  }
  r.resolved_ms = monotonic_ms();
  if (!ep.ok()) {
    r.defer("4.3.5", absl::StrCat("bad route or relay host '", r.nexthop.name, "': ", ep.status().message()));
  } else {
    auto sr = fixed_route(r.nexthop);
    sr->targets.push_back(Target{r.nexthop.name, ep->addr, ep->len});
    r.route = std::move(sr);
  }
  release_waiting(r);
}

// on_host_resolved: the addresses of a route's or the relay host's name.
// Whatever fails is the configuration's problem or the moment's, never the
// recipient's: deferred, and asked again by the next job.
void Outbound::on_host_resolved(const std::string& key, const MxRoute& route, uint16_t port) {
  auto it = _routes.find(key);
  if (it == _routes.end()) {
    return;
  }
  RouteEntry& r = it->second;
  r.resolving = false;
  r.resolved_ms = monotonic_ms();
  r.route.reset();
  if (route.status == MxStatus::kOk) {
    auto sr = fixed_route(r.nexthop);
    for (const MxHost& h : route.hosts) {
      for (const sockaddr_storage& a : h.addresses) {
        sr->targets.push_back(target_at(h.name, a, htons(port)));
      }
    }
    r.route = std::move(sr);
  } else {
    r.resolved_ms = -1;
    r.defer("4.4.3", absl::StrCat("route or relay host '", r.nexthop.name, "': ",
                                  route.error.empty() ? std::string(mx_status_name(route.status)) : route.error));
  }
  release_waiting(r);
}

void Outbound::on_resolved(const std::string& key, const MxRoute& route) {
  auto it = _routes.find(key);
  if (it == _routes.end()) {
    return;
  }
  RouteEntry& r = it->second;
  r.resolving = false;
  r.resolved_ms = monotonic_ms();
  r.route.reset();
  const auto port = htons(static_cast<uint16_t>(_ctx.config.mx_port));
  auto sr = std::make_shared<SiteRoute>();
  if (route.status == MxStatus::kOk) {
    for (const MxHost& h : route.hosts) {
      for (const sockaddr_storage& a : h.addresses) {
        sr->targets.push_back(target_at(h.name, a, port));
      }
    }
  }
  if (!sr->targets.empty()) {
    const DomainRule* rule = shaping().rule_for(r.nexthop.name);
    sr->site = rule != nullptr && !rule->mx_rollup ? absl::StrCat("domain:", r.nexthop.name) : site_of(route);
    absl::StrAppend(&sr->site, tls_suffix(r.nexthop.tls));
    r.route = std::move(sr);
  } else {
    const bool permanent = mx_status_is_permanent(route.status);
    r.fail_outcome = permanent ? Outcome::kBounced : Outcome::kDeferred;
    if (route.status == MxStatus::kNullMx) {
      r.fail_code = 556;
      r.fail_status = "5.1.10";  // RFC 7505
    } else if (route.status == MxStatus::kNoAddress) {
      r.fail_code = 550;
      r.fail_status = "5.4.4";  // RFC 3463: unable to route
    } else if (permanent) {
      r.fail_code = 550;
      r.fail_status = "5.1.2";
    } else {
      r.fail_code = 451;
      r.fail_status = "4.4.3";
      r.resolved_ms = -1;  // a temporary failure is not kept: the next job asks again
    }
    r.fail_error = route.error.empty() ? std::string(mx_status_name(route.status)) : route.error;
  }
  release_waiting(r);
}

void Outbound::release_waiting(RouteEntry& r) {
  std::deque<DeliveryJob> waiting;
  waiting.swap(r.waiting);
  for (DeliveryJob& job : waiting) {
    forward(std::move(job), r);
  }
}

// forward sends a job on to the owner of its (source, site) queue, or, when
// routing failed, answers it.
void Outbound::forward(DeliveryJob&& job, const RouteEntry& r) {
  if (!r.route) {
    std::vector<RcptOutcome> outcomes;
    for (uint32_t rcpt : job.rcpts) {
      RcptOutcome o{rcpt, r.fail_outcome, r.fail_code, r.fail_status, r.fail_error, "", ""};
      o.internal = true;
      outcomes.push_back(std::move(o));
    }
    const uint32_t origin = job.origin;
    _outbox.send(origin, std::move(job).answer(std::move(outcomes)));
    return;
  }
  job.site_key = absl::StrCat(job.source != nullptr ? job.source->name : "", "|", r.route->site);
  job.route = r.route;
  if (!job.domain.empty() && shaping().rule_for(job.domain) != nullptr) {
    job.rule_domain = job.domain;
  }
  const auto owner = static_cast<unsigned>(std::hash<std::string_view>{}(job.site_key) % _outbox.shards());
  _outbox.send(owner, std::move(job));
}

}  // namespace ringmta
