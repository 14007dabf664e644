// engine/outbound/outbound.cc — the destination queues a shard owns: making
// them, routing them (a fixed host, or MX through the resolver), opening
// connections while jobs wait, and failing a queue nobody can take
// (outbound.h).
#include "engine/outbound/outbound.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"

namespace ringmta {

Outbound::Outbound(const ShardContext& ctx, MeshOutbox<ShardMessage>& outbox) : _ctx(ctx), _outbox(outbox) {
  _client_config.helo_name = ctx.config.hostname;
}

Outbound::~Outbound() {
  for (OutboundConn& c : _conns) {
    if (c.io.fd >= 0) {
      close(c.io.fd);
    }
  }
}

void Outbound::on_completion(const UserData& ud, io_uring_cqe* cqe) {
  if (ud.op == Op::kDns) {
    if (_resolver) {
      _resolver->on_cqe(cqe);
    }
    return;
  }
  if (ud.slot >= _conns.size() || _conns[ud.slot].gen != ud.gen || _conns[ud.slot].io.fd < 0) {
    if (ud.op == Op::kOutRecv && (cqe->flags & IORING_CQE_F_BUFFER)) {
      _ctx.buffers.recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
    }
    return;
  }
  switch (ud.op) {
    case Op::kOutConnect:
      on_connect(ud.slot, cqe->res);
      break;
    case Op::kOutRecv:
      on_recv(ud.slot, cqe);
      break;
    case Op::kOutSend:
      on_send(ud.slot, cqe->res);
      break;
    default:
      break;
  }
}

void Outbound::poll() {
  if (_resolver) {
    _resolver->run_deferred();  // answers from its cache, never re-entrant
  }
}

int64_t Outbound::wait_bound_us(int64_t /*now_ms*/) const {
  // c-ares may need to resend a query before the next tick.
  return _resolver ? _resolver->wait_bound_us() : -1;
}

Resolver& Outbound::resolver() {
  if (!_resolver) {
    ResolverOptions o;
    o.servers = _ctx.config.resolver;
    o.seed = _ctx.id + 1;
    absl::StatusOr<std::unique_ptr<Resolver>> r = Resolver::create(&_ctx.ring, o);
    if (!r.ok()) {
      // main() checked the resolver settings at start, so this is a failure
      // of the moment (no memory, no sockets). Without a resolver nothing
      // routed by MX can go out: stop rather than run half-working.
      log_error("shard %u: DNS resolver: %s", _ctx.id, r.status().message());
      std::abort();
    }
    _resolver = std::move(*r);
  }
  return *_resolver;
}

Destination& Outbound::destination(const DeliveryJob& job) {
  auto [it, fresh] = _dests.try_emplace(job.dest_key);
  if (fresh) {
    it->second = std::make_unique<Destination>();
    it->second->key = job.dest_key;
    it->second->nexthop = job.nexthop;
  }
  return *it->second;
}

void Outbound::enqueue(DeliveryJob&& job) {
  if (_ctx.stopping) {
    return;  // the origin's spool still has it; the next start retries
  }
  Destination& d = destination(job);
  d.queue.push_back(std::move(job));
  pump(d);
}

void Outbound::pump(Destination& d) {
  if (!d.resolved) {
    if (!d.resolving) {
      resolve(d);
    }
    return;
  }
  if (d.targets.empty()) {
    fail_queue(d, d.route_permanent ? Outcome::kBounced : Outcome::kDeferred, d.route_code, d.route_status,
               d.route_error);
    return;
  }
  size_t spare = 0;
  for (uint32_t slot : d.conns) {
    OutboundConn& c = _conns[slot];
    if (c.shut || c.job) {
      continue;
    }
    if (!d.queue.empty() && c.session && c.session->ready()) {
      start_job(slot);
    } else {
      ++spare;  // connecting, greeting, or idle with nothing to do
    }
  }
  while (d.queue.size() > spare && d.conns.size() < _ctx.config.dest_connections) {
    open_conn(d);
    ++spare;
  }
}

void Outbound::resolve(Destination& d) {
  if (d.nexthop.use_mx) {
    d.resolving = true;
    resolver().resolve_mx(d.nexthop.name, [this, key = d.key](const MxRoute& route) { on_resolved(key, route); });
    return;
  }
  d.resolved = true;
  absl::StatusOr<Endpoint> ep = parse_endpoint(d.nexthop.name);
  if (!ep.ok()) {
    // A configuration problem, not the recipient's: defer, never bounce.
    d.route_code = 451;
    d.route_status = "4.3.5";
    d.route_error = absl::StrCat("bad route or relay host '", d.nexthop.name, "': ", ep.status().message());
  } else {
    Target t;
    t.host = d.nexthop.name;
    t.addr = ep->addr;
    t.len = ep->len;
    d.targets.push_back(t);
  }
  pump(d);
}

void Outbound::on_resolved(const std::string& key, const MxRoute& route) {
  auto it = _dests.find(key);
  if (it == _dests.end()) {
    return;
  }
  Destination& d = *it->second;
  d.resolving = false;
  d.resolved = true;
  const auto port = htons(static_cast<uint16_t>(_ctx.config.mx_port));
  if (route.status == MxStatus::kOk) {
    for (const MxHost& h : route.hosts) {
      for (const sockaddr_storage& a : h.addresses) {
        Target t;
        t.host = h.name;
        t.addr = a;
        if (a.ss_family == AF_INET) {
          reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port = port;
          t.len = sizeof(sockaddr_in);
        } else {
          reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_port = port;
          t.len = sizeof(sockaddr_in6);
        }
        d.targets.push_back(t);
      }
    }
  }
  if (d.targets.empty()) {
    d.route_permanent = mx_status_is_permanent(route.status);
    if (route.status == MxStatus::kNullMx) {
      d.route_code = 556;
      d.route_status = "5.1.10";  // RFC 7505
    } else if (route.status == MxStatus::kNoAddress) {
      d.route_code = 550;
      d.route_status = "5.4.4";  // RFC 3463: unable to route
    } else if (d.route_permanent) {
      d.route_code = 550;
      d.route_status = "5.1.2";
    } else {
      d.route_code = 451;
      d.route_status = "4.4.3";
    }
    d.route_error = route.error.empty() ? std::string(mx_status_name(route.status)) : route.error;
  }
  pump(d);
}

// fail_queue ends every queued job of d with one local outcome.
void Outbound::fail_queue(Destination& d, Outcome outcome, int code, const std::string& status,
                          const std::string& text) {
  while (!d.queue.empty()) {
    DeliveryJob job = std::move(d.queue.front());
    d.queue.pop_front();
    std::vector<RcptOutcome> outcomes;
    for (uint32_t rcpt : job.rcpts) {
      outcomes.push_back({rcpt, outcome, code, status, text, "", ""});
    }
    const uint32_t origin = job.origin;
    _outbox.send(origin, std::move(job).answer(std::move(outcomes)));
  }
  maybe_forget(d.key);
}

void Outbound::maybe_forget(const std::string& key) {
  auto it = _dests.find(key);
  if (it != _dests.end() && it->second->queue.empty() && it->second->conns.empty() && !it->second->resolving) {
    _dests.erase(it);  // the resolver's cache keeps the routing answer warm
  }
}

void Outbound::on_tick(int64_t now_ms) {
  // An idle connection is kept this long for the next job (Postfix's
  // smtp_connection_cache_time_limit is 2 s).
  constexpr int64_t kIdleKeepMs = 2000;
  for (uint32_t slot = 0; slot < _conns.size(); ++slot) {
    OutboundConn& c = _conns[slot];
    if (c.io.fd < 0 || c.shut || c.connecting || !c.session) {
      continue;
    }
    if (_ctx.stopping) {
      shut(slot);
    } else if (c.idle_since_ms != 0 && now_ms - c.idle_since_ms > kIdleKeepMs) {
      c.idle_since_ms = 0;
      c.session->quit();
      flush(slot);
    } else if (c.idle_since_ms == 0 && now_ms > c.deadline_ms) {
      c.session->on_timeout();
      drive(slot);
    }
  }
}

}  // namespace ringmta
