// engine/outbound/outbound.cc — the (source, site) queues a shard owns:
// making them, applying their shaping limits when they open connections
// and start transactions, waking them when a rate allows more, and
// failing a queue nobody can take (outbound.h).
#include "engine/outbound/outbound.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"

namespace ringmta {
namespace {

int64_t now_ns() { return monotonic_us() * 1000; }

// Jobs' domains a queue remembers for rules scoped to a domain; a site
// with more (a relay host, say) stops learning new ones.
constexpr size_t kMaxSiteDomains = 4096;

}  // namespace

Outbound::Outbound(const ShardContext& ctx, MeshOutbox<ShardMessage>& outbox, EventLog& events,
                   ShapingTables& tables)
    : _ctx(ctx), _outbox(outbox), _events(events), _tables(tables), _base_limits(ctx.config.site_defaults()) {
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
  if (_wakes.empty()) {
    return;
  }
  const int64_t now = now_ns();
  while (!_wakes.empty() && _wakes.top().first <= now) {
    auto [at, key] = _wakes.top();
    _wakes.pop();
    auto it = _sites.find(key);
    if (it != _sites.end() && it->second->wake_ns == at) {
      it->second->wake_ns = 0;
      pump(*it->second);
    }
  }
}

int64_t Outbound::wait_bound_us(int64_t /*now_ms*/) const {
  // c-ares may need to resend a query before the next tick, and a rate may
  // let a held-back site go sooner than that.
  int64_t bound = _resolver ? _resolver->wait_bound_us() : -1;
  if (!_wakes.empty()) {
    const int64_t wake_us = std::max<int64_t>(0, (_wakes.top().first - now_ns() + 999) / 1000);
    bound = bound < 0 ? wake_us : std::min(bound, wake_us);
  }
  return bound;
}

void Outbound::enqueue(DeliveryJob&& job) {
  if (_ctx.stopping) {
    return;  // the origin's spool still has it; the next start retries
  }
  if (job.route) {
    queue(std::move(job));
  } else {
    route(std::move(job));
  }
}

SiteQueue& Outbound::site_queue(const DeliveryJob& job) {
  auto [it, fresh] = _sites.try_emplace(job.site_key);
  if (fresh) {
    auto q = std::make_unique<SiteQueue>();
    q->key = job.site_key;
    q->site = job.route->site;
    q->egress = job.source;
    q->source = job.source != nullptr ? job.source->name : "";
    q->tls = job.nexthop.tls;
    refresh_limits(*q);
    it->second = std::move(q);
  }
  return *it->second;
}

// queue puts a routed job on its site, cut into transactions of at most
// max_recipients_per_message recipients (one with VERP).
void Outbound::queue(DeliveryJob&& job) {
  SiteQueue& q = site_queue(job);
  q.route = job.route;  // the freshest answer for connections opened from now on
  // For rules' `domain`, and for the admin API's "what is queued for D".
  if (!job.domain.empty() && q.domains.size() < kMaxSiteDomains) {
    q.domains.insert(job.domain);
  }
  if (!job.rule_domain.empty() &&
      std::find(q.rule_domains.begin(), q.rule_domains.end(), job.rule_domain) == q.rule_domains.end()) {
    q.rule_domains.push_back(job.rule_domain);
    refresh_limits(q);
  }
  if (blocked(job) != nullptr) {
    // An operator's suspension or hold: answered at once, held.
    q.jobs.push_back(JobInFlight{std::move(job), {}, 1});
    q.queue.push_back(Chunk{std::prev(q.jobs.end()), 0, static_cast<uint32_t>(q.jobs.back().job.rcpts.size())});
    hold_blocked(q);
    return;
  }
  if (tenant_suspended(q, job)) {
    // Answered at once, held until the tenant's suspension ends.
    const std::string tenant = job.message->envelope.tenant;
    q.jobs.push_back(JobInFlight{std::move(job), {}, 1});
    q.queue.push_back(Chunk{std::prev(q.jobs.end()), 0, static_cast<uint32_t>(q.jobs.back().job.rcpts.size())});
    hold_queue(q, &tenant);
    return;
  }
  const auto n = static_cast<uint32_t>(job.rcpts.size());
  // A VERP job goes one recipient per transaction: each has its own sender.
  const auto per =
      job.verp ? 1u : static_cast<uint32_t>(std::max<uint64_t>(1, q.limits.max_recipients_per_message));
  q.jobs.push_back(JobInFlight{std::move(job), {}, (n + per - 1) / per});
  auto it = std::prev(q.jobs.end());
  it->outcomes.reserve(n);
  for (uint32_t begin = 0; begin < n; begin += per) {
    q.queue.push_back(Chunk{it, begin, std::min(n, begin + per)});
  }
  pump(q);
}

// may_start: whether the site's message rate lets one more transaction
// start now (and counts it); if not, the site is woken when it does.
bool Outbound::may_start(SiteQueue& q, int64_t now) {
  if (!q.limits.max_message_rate) {
    return true;
  }
  const int64_t wait = q.message_rate.take(*q.limits.max_message_rate, now);
  if (wait > 0) {
    wake_at(q, now + wait);
    return false;
  }
  return true;
}

void Outbound::wake_at(SiteQueue& q, int64_t at_ns) {
  if (q.wake_ns != 0 && q.wake_ns <= at_ns) {
    return;  // already woken no later than that
  }
  q.wake_ns = at_ns;
  _wakes.emplace(at_ns, q.key);
}

void Outbound::pump(SiteQueue& q) {
  if (q.queue.empty()) {
    return;
  }
  if (suspended(q)) {
    hold_queue(q);
    return;
  }
  const int64_t now = now_ns();
  size_t spare = 0;
  for (uint32_t slot : q.conns) {
    OutboundConn& c = _conns[slot];
    if (c.shut || c.chunk) {
      continue;
    }
    if (!q.queue.empty() && c.session && c.session->ready() &&
        c.messages < q.limits.max_deliveries_per_connection) {
      if (!may_start(q, now)) {
        return;  // woken when the rate allows; connections wait idle
      }
      start_job(slot);
      if (c.session->has_result()) {
        drive(slot);  // refused before anything was sent: finish it now
      }
    } else {
      ++spare;  // connecting, greeting, or idle with nothing to do
    }
  }
  while (q.queue.size() > spare && q.conns.size() < q.limits.connection_limit) {
    if (q.limits.max_connection_rate) {
      const int64_t wait = q.connection_rate.take(*q.limits.max_connection_rate, now);
      if (wait > 0) {
        wake_at(q, now + wait);
        break;
      }
    }
    open_conn(q);
    ++spare;
  }
}

// complete records one transaction's outcomes; the job is answered when
// its last transaction is done.
void Outbound::complete(SiteQueue& q, const Chunk& chunk, std::vector<RcptOutcome>&& outcomes) {
  JobInFlight& j = *chunk.job;
  for (RcptOutcome& o : outcomes) {
    j.outcomes.push_back(std::move(o));
  }
  if (--j.chunks_left > 0) {
    return;
  }
  const uint32_t origin = j.job.origin;
  _outbox.send(origin, std::move(j.job).answer(std::move(j.outcomes)));
  q.jobs.erase(chunk.job);
}

// fail_queue ends every queued transaction of q with one local outcome.
void Outbound::fail_queue(SiteQueue& q, Outcome outcome, int code, const std::string& status,
                          const std::string& text) {
  while (!q.queue.empty()) {
    Chunk chunk = q.queue.front();
    q.queue.pop_front();
    std::vector<RcptOutcome> outcomes;
    for (uint32_t i = chunk.begin; i < chunk.end; ++i) {
      RcptOutcome o{chunk.job->job.rcpts[i], outcome, code, status, text, "", ""};
      o.internal = true;
      outcomes.push_back(std::move(o));
    }
    complete(q, chunk, std::move(outcomes));
  }
  maybe_forget(q.key);
}

namespace {

// idle: nothing queued or open, and no rate remembers recent sends (a site
// forgotten earlier would get a fresh burst: "100/h" must hold across it).
bool idle(const SiteQueue& q, int64_t now) {
  return q.jobs.empty() && q.conns.empty() && q.wake_ns == 0 && q.message_rate.tat_ns <= now &&
         q.connection_rate.tat_ns <= now && q.suspended_until_ms == 0 && q.throttled_until_ms == 0 &&
         q.tenants_suspended.empty();
}

}  // namespace

void Outbound::maybe_forget(const std::string& key) {
  auto it = _sites.find(key);
  if (it != _sites.end() && idle(*it->second, now_ns())) {
    _sites.erase(it);
  }
}

// take_reload puts shaping tables a SIGHUP read in force: every queue
// keeps its mail, connections, rates and actions, under its new limits.
void Outbound::take_reload() {
  if (!_tables.take_reload()) {
    return;
  }
  std::vector<std::string> keys;
  for (auto& [key, q] : _sites) {
    q->hits.clear();  // counted against rules by their place, which may have changed
    refresh_limits(*q);
    keys.push_back(key);
  }
  for (const std::string& key : keys) {  // looser limits may let work go now (pump may forget a site)
    if (auto it = _sites.find(key); it != _sites.end()) {
      it->second->wake_ns = 0;
      pump(*it->second);
    }
  }
}

void Outbound::on_tick(int64_t now_ms) {
  take_reload();
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
  // Actions whose time is up (pumping may forget a site: keys first).
  std::vector<std::string> ending;
  for (const auto& [key, q] : _sites) {
    if ((q->suspended_until_ms != 0 && q->suspended_until_ms <= now_ms) ||
        (q->throttled_until_ms != 0 && q->throttled_until_ms <= now_ms) || !q->tenants_suspended.empty()) {
      ending.push_back(key);
    }
  }
  for (const std::string& key : ending) {
    if (auto it = _sites.find(key); it != _sites.end()) {
      end_actions(*it->second, now_ms);
    }
  }
  const int64_t now = now_ns();
  absl::erase_if(_sites, [now](const auto& kv) { return idle(*kv.second, now); });
  // Routing answers nobody waits for and nobody asked for lately.
  absl::erase_if(_routes, [now_ms](const auto& kv) {
    const RouteEntry& r = kv.second;
    return !r.resolving && r.waiting.empty() && (r.resolved_ms < 0 || now_ms - r.resolved_ms > 120'000);
  });
}

}  // namespace ringmta

namespace ringmta {

std::vector<SiteDepth> Outbound::site_depths() const {
  std::vector<SiteDepth> out;
  out.reserve(_sites.size());
  for (const auto& [key, q] : _sites) {
    if (!q->jobs.empty()) {
      out.push_back(SiteDepth{q->site, q->source, q->jobs.size()});
    }
  }
  return out;
}

}  // namespace ringmta
