// engine/outbound/outbound_backoff.cc — automatic backoff on the owner of a
// (source, site) queue: a reply that matches a [[shaping.rule]] suspends
// the queue or throttles it for the rule's duration, or bounces the
// recipient; the action ends by itself (outbound.h, backoff_rules.h).
//
// A suspended queue keeps no mail in memory: what waits there, and what
// arrives while it lasts, goes back to its origin as deferred-but-held (not
// a failed attempt, retried when the suspension ends), where it waits in the
// spool like any deferred message.
#include <algorithm>

#include "absl/time/clock.h"
#include "engine/outbound/outbound.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"

namespace ringmta {
namespace {

absl::Time wall_at(int64_t monotonic_at_ms) {
  return absl::Now() + absl::Milliseconds(monotonic_at_ms - monotonic_ms());
}

}  // namespace

bool Outbound::suspended(const SiteQueue& q) const { return q.suspended_until_ms > monotonic_ms(); }

bool Outbound::tenant_suspended(const SiteQueue& q, const DeliveryJob& job) const {
  if (q.tenants_suspended.empty()) {
    return false;
  }
  auto it = q.tenants_suspended.find(job.message->envelope.tenant);
  return it != q.tenants_suspended.end() && it->second.first > monotonic_ms();
}

// on_reply matches one reply on q against the rules and acts on what
// matches; true when a bounce rule matched (the caller bounces the
// recipient). `job` is the one the reply was about; null for a reply to
// the session (greeting, EHLO) or an internal failure of the connection.
bool Outbound::on_reply(SiteQueue& q, const proto::Reply& reply, const DeliveryJob* job) {
  const BackoffRules* rules = shaping().rules.get();
  if (rules == nullptr || reply.code == 0 || (reply.code >= 200 && reply.code < 300)) {
    return false;  // successes never trigger a backoff
  }
  const std::string line = proto::format_reply(reply);
  std::vector<size_t> hit;
  rules->match(line, reply.local, &hit);
  bool bounce = false;
  const int64_t now = monotonic_ms();
  for (size_t i : hit) {
    const BackoffRule& rule = rules->rules()[i];
    if (!rule.domain.empty() && (job == nullptr || rule.domain != job->domain) && !q.domains.contains(rule.domain)) {
      continue;
    }
    if (!rule.tenant.empty() && (job == nullptr || job->message->envelope.tenant != rule.tenant)) {
      continue;  // a tenant's rule looks only at replies to that tenant's mail
    }
    if (rule.trigger) {
      std::deque<int64_t>& times = q.hits[i];
      times.push_back(now);
      while (!times.empty() && now - times.front() > rule.trigger->period_ns / 1'000'000) {
        times.pop_front();
      }
      if (times.size() < rule.trigger->count) {
        continue;
      }
      times.clear();
    }
    if (rule.action == BackoffAction::kBounce) {
      bounce = true;
    } else {
      act(q, rule, line);
    }
  }
  return bounce;
}

void Outbound::act(SiteQueue& q, const BackoffRule& rule, const std::string& line) {
  const int64_t now = monotonic_ms();
  const int64_t until = now + rule.duration_ms;
  if (!rule.tenant.empty()) {
    auto& [t_until, t_rule] = q.tenants_suspended[rule.tenant];
    if (until <= t_until) {
      return;
    }
    t_until = until;
    t_rule = rule.name;
    log_info("shard %u: suspend tenant '%s' on %s from source '%s' until +%llds (%s matched: %s)", _ctx.id,
             rule.tenant, q.site, q.source, static_cast<long long>(rule.duration_ms / 1000), rule.name, line);
    _events.add(ShapingEvent{"suspend", q.site, q.source, rule.name, line, absl::Now(), wall_at(until),
                             rule.tenant});
    hold_queue(q, &rule.tenant);
    return;
  }
  if (rule.action == BackoffAction::kSuspend) {
    if (until <= q.suspended_until_ms) {
      return;  // already suspended at least that long
    }
    q.suspended_until_ms = until;
    q.suspended_by = rule.name;
  } else {
    if (until <= q.throttled_until_ms) {
      return;
    }
    q.throttled_until_ms = until;
    q.throttled_by = rule.name;
    q.throttle = rule.throttle;
    refresh_limits(q);
  }
  const char* action = backoff_action_name(rule.action);
  log_info("shard %u: %s %s from source '%s' until +%llds (%s matched: %s)", _ctx.id, action, q.site, q.source,
           static_cast<long long>(rule.duration_ms / 1000), rule.name, line);
  _events.add(ShapingEvent{action, q.site, q.source, rule.name, line, absl::Now(), wall_at(until)});
  if (rule.action == BackoffAction::kSuspend) {
    hold_queue(q);
  }
  // Idle connections go now; busy ones finish their transaction and then
  // see the new state in drive().
  for (uint32_t slot : q.conns) {
    OutboundConn& c = _conns[slot];
    if (!c.shut && !c.chunk && c.session && c.session->ready() &&
        (rule.action == BackoffAction::kSuspend || q.conns.size() > q.limits.connection_limit)) {
      c.idle_since_ms = 0;
      c.session->quit();
      flush(slot);
    }
  }
}

// hold_queue answers every waiting transaction of a suspended queue:
// deferred, held (not an attempt), to be retried when the suspension ends.
// With `tenant`, only that tenant's.
void Outbound::hold_queue(SiteQueue& q, const std::string* tenant) {
  const int64_t until = tenant != nullptr ? q.tenants_suspended[*tenant].first : q.suspended_until_ms;
  const absl::Time retry_at = wall_at(until);
  const std::string why = "suspended by shaping " + (tenant != nullptr ? q.tenants_suspended[*tenant].second
                                                                        : q.suspended_by);
  std::deque<Chunk> keep;
  while (!q.queue.empty()) {
    Chunk chunk = q.queue.front();
    q.queue.pop_front();
    if (tenant != nullptr && chunk.job->job.message->envelope.tenant != *tenant) {
      keep.push_back(chunk);
      continue;
    }
    std::vector<RcptOutcome> outcomes;
    for (uint32_t i = chunk.begin; i < chunk.end; ++i) {
      RcptOutcome o{chunk.job->job.rcpts[i], Outcome::kDeferred, 451, "4.4.5", why, "", ""};
      o.held = true;
      o.retry_at = retry_at;
      o.internal = true;
      outcomes.push_back(std::move(o));
    }
    complete(q, chunk, std::move(outcomes));
  }
  q.queue.swap(keep);
}

void Outbound::refresh_limits(SiteQueue& q) {
  q.configured = shaping().limits_for(q.rule_domains, q.source, _base_limits);
  q.limits = q.configured;
  if (q.throttled_until_ms != 0) {
    // A throttle only ever tightens what is configured.
    if (q.throttle.connection_limit) {
      q.limits.connection_limit = std::min(q.limits.connection_limit, *q.throttle.connection_limit);
    }
    if (q.throttle.max_message_rate) {
      q.limits.max_message_rate = q.throttle.max_message_rate;
    }
  }
}

// end_actions ends a suspension or throttle whose time is up, and puts the
// queue back to its configured limits.
void Outbound::end_actions(SiteQueue& q, int64_t now_ms) {
  for (auto it = q.tenants_suspended.begin(); it != q.tenants_suspended.end();) {
    if (it->second.first > now_ms) {
      ++it;
      continue;
    }
    _events.add(ShapingEvent{"suspend_end", q.site, q.source, it->second.second, "", absl::Now(), absl::Now(),
                             it->first});
    q.tenants_suspended.erase(it++);
  }
  if (q.suspended_until_ms != 0 && q.suspended_until_ms <= now_ms) {
    q.suspended_until_ms = 0;
    log_info("shard %u: suspension of %s from source '%s' ended (%s)", _ctx.id, q.site, q.source, q.suspended_by);
    _events.add(ShapingEvent{"suspend_end", q.site, q.source, q.suspended_by, "", absl::Now(), absl::Now()});
    q.suspended_by.clear();
  }
  if (q.throttled_until_ms != 0 && q.throttled_until_ms <= now_ms) {
    q.throttled_until_ms = 0;
    log_info("shard %u: throttle of %s from source '%s' ended (%s)", _ctx.id, q.site, q.source, q.throttled_by);
    _events.add(ShapingEvent{"throttle_end", q.site, q.source, q.throttled_by, "", absl::Now(), absl::Now()});
    q.throttled_by.clear();
    q.throttle = ShapingParams{};
    refresh_limits(q);
  }
  pump(q);  // last: it may forget q
}

}  // namespace ringmta
