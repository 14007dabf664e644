// engine/outbound/outbound_admin.cc — the owner side of the admin API:
// the operator's suspensions and holds (what they stop is handed back to
// its origin as held, like a shaping suspension: outbound_backoff.cc), and
// the site queues as rows for `ringmta-ctl queue`.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/outbound/outbound.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/clock.h"

namespace ringmta {
namespace {

// A held domain's mail comes back this often to see whether it was
// released (a release also flushes it at once on its origin).
constexpr absl::Duration kHoldRecheck = absl::Minutes(10);

std::string_view rcpt_domain(std::string_view addr) {
  const size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

}  // namespace

const AdminBlock* Outbound::blocked(const DeliveryJob& job) const {
  if (_blocks.empty()) {
    return nullptr;
  }
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  // A job names its domain, unless it is a relay host's job for several:
  // then it is blocked only if its first recipient's domain is (a job's
  // recipients go in one transaction).
  std::string_view domain = job.domain;
  if (domain.empty() && !job.rcpts.empty()) {
    domain = rcpt_domain(job.message->envelope.recipients[job.rcpts.front()]);
  }
  // A hold wins over a suspension of the same domain: held mail must not
  // expire.
  const AdminBlock* found = nullptr;
  for (const AdminBlock& b : _blocks) {
    if (b.domain == domain && (b.hold || b.until_s > now_s) && (found == nullptr || b.hold)) {
      found = &b;
    }
  }
  return found;
}

void Outbound::hold_blocked(SiteQueue& q) {
  std::deque<Chunk> keep;
  const absl::Time now = absl::Now();
  while (!q.queue.empty()) {
    Chunk chunk = q.queue.front();
    q.queue.pop_front();
    const AdminBlock* b = blocked(chunk.job->job);
    if (b == nullptr) {
      keep.push_back(chunk);
      continue;
    }
    const std::string why = absl::StrCat(b->hold ? "held" : "suspended", " by the operator",
                                         b->reason.empty() ? "" : ": ", b->reason);
    std::vector<RcptOutcome> outcomes;
    for (uint32_t i = chunk.begin; i < chunk.end; ++i) {
      RcptOutcome o{chunk.job->job.rcpts[i], Outcome::kDeferred, 451, "4.4.5", why, "", ""};
      o.held = true;
      o.admin_hold = b->hold;
      o.retry_at = b->hold ? now + kHoldRecheck : absl::FromUnixSeconds(b->until_s);
      o.internal = true;
      outcomes.push_back(std::move(o));
    }
    complete(q, chunk, std::move(outcomes));
  }
  q.queue.swap(keep);
}

void Outbound::set_blocks(std::vector<AdminBlock> blocks, uint64_t version) {
  if (version != 0 && version < _blocks_version) {
    return;  // a newer list came first
  }
  _blocks_version = version;
  _blocks = std::move(blocks);
  if (!_blocks.empty()) {
    for (auto& [key, q] : _sites) {
      hold_blocked(*q);  // answers jobs; never forgets a queue (the tick does)
    }
  }
}

std::vector<SiteRow> Outbound::site_rows(std::string_view domain) const {
  std::vector<SiteRow> out;
  const int64_t now_ms = monotonic_ms();
  const int64_t now_s = absl::ToUnixSeconds(absl::Now());
  for (const auto& [key, qp] : _sites) {
    const SiteQueue& q = *qp;
    if (!domain.empty() && !q.domains.contains(av(domain)) && q.site != absl::StrCat("domain:", av(domain))) {
      continue;
    }
    SiteRow r;
    r.site = q.site;
    r.source = q.source;
    for (const std::string& d : q.domains) {
      if (r.domains.size() == 20) break;  // enough to recognize the site by
      r.domains.push_back(d);
    }
    absl::Time oldest = absl::InfiniteFuture();
    for (const JobInFlight& j : q.jobs) {
      r.recipients += j.job.rcpts.size();
      oldest = std::min(oldest, j.job.message->arrival);
    }
    r.messages = q.jobs.size();
    r.waiting = q.queue.size();
    r.connections = q.conns.size();
    r.oldest_s = oldest == absl::InfiniteFuture() ? 0 : absl::ToUnixSeconds(oldest);
    r.state = "ready";
    if (q.suspended_until_ms > now_ms) {
      r.state = "suspended";
      r.until_s = now_s + (q.suspended_until_ms - now_ms) / 1000;
      r.reason = q.suspended_by;
    } else if (q.throttled_until_ms > now_ms) {
      r.state = "throttled";
      r.until_s = now_s + (q.throttled_until_ms - now_ms) / 1000;
      r.reason = q.throttled_by;
    }
    r.last_error = q.last_error;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ringmta
