// engine/shard_delivery.cc — delivery, origin side. The shard that spooled a
// message owns it until every recipient is final: it groups the recipients
// by destination, hands one DeliveryJob per destination to the shard that
// owns that destination (through the mesh, also when that is itself, so no
// call here ever re-enters), and applies the results: state records into
// its spool, one event-log line per recipient, retries with exponential
// backoff, and a DSN to the sender for what bounced.
#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/log.h"
#include "engine/shard.h"
#include "proto/dsn.h"

namespace ringmta {
namespace {

std::string_view domain_of(std::string_view addr) {
  size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

// backoff is the wait after a recipient's attempts-th failed attempt:
// retry_min, doubling, at most retry_max (Postfix's schedule).
absl::Duration backoff(const Config& c, uint32_t attempts) {
  uint64_t s = c.retry_min_s;
  for (uint32_t i = 1; i < attempts && s < c.retry_max_s; ++i) {
    s *= 2;
  }
  return absl::Seconds(static_cast<int64_t>(std::min(s, c.retry_max_s)));
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kDeferred:
      return "deferred";
    case Outcome::kBounced:
      return "bounced";
  }
  return "?";
}

bool retry_later(const std::pair<absl::Time, uint64_t>& a, const std::pair<absl::Time, uint64_t>& b) {
  return a.first > b.first;
}

}  // namespace

void Shard::adopt(std::unique_ptr<proto::CompletedMessage> m, std::vector<RcptState> rcpts) {
  deliver(std::move(m), std::move(rcpts), false);
}

void Shard::deliver(std::unique_ptr<proto::CompletedMessage> m, std::vector<RcptState> rcpts,
                    bool is_dsn) {
  if (_config.hold) {
    return;  // spooled; a later start without --hold delivers it
  }
  auto lm = std::make_unique<LiveMessage>();
  rcpts.resize(m->envelope.recipients.size());
  lm->msg = std::move(m);
  lm->rcpts = std::move(rcpts);
  lm->is_dsn = is_dsn || lm->msg->envelope.sender.empty();
  const uint64_t handle = _next_handle++;
  // A recovered message whose recipients are deferred waits for its time.
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& r : lm->rcpts) {
    if (!spool::is_final(r.status)) {
      due = std::min(due, r.status == spool::RcptStatus::kDeferred ? r.next_retry : absl::InfinitePast());
    }
  }
  _live.emplace(handle, std::move(lm));
  if (due <= absl::Now()) {
    dispatch(handle);
  } else if (due != absl::InfiniteFuture()) {
    _retry_heap.emplace_back(due, handle);
    std::push_heap(_retry_heap.begin(), _retry_heap.end(), retry_later);
  }
}

void Shard::dispatch(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  const proto::CompletedMessage& m = *lm.msg;
  const absl::Time now = absl::Now();
  absl::flat_hash_map<std::string, DeliveryJob> jobs;
  DeliveryResult local;  // recipients that need no remote attempt
  local.message = handle;
  for (uint32_t i = 0; i < lm.rcpts.size(); ++i) {
    const RcptState& st = lm.rcpts[i];
    if (spool::is_final(st.status) || (st.status == spool::RcptStatus::kDeferred && st.next_retry > now)) {
      continue;
    }
    const std::string& addr = m.envelope.recipients[i];
    std::string domain(domain_of(addr));
    if (domain.empty()) {
      // <postmaster> without a domain: ringmta has no local mailboxes.
      local.outcomes.push_back({i, Outcome::kBounced, 550, "5.1.1",
                                "local delivery is not supported (no domain in the address)", "", ""});
      continue;
    }
    Nexthop nh;
    auto route = std::find_if(_config.routes.begin(), _config.routes.end(),
                              [&](const auto& r) { return r.first == domain; });
    if (route != _config.routes.end()) {
      nh.name = route->second;
    } else if (domain.front() == '[') {
      // An address literal (RFC 5321 4.1.3): that host, no DNS. The parser
      // lower-cased an IPv6 tag to "ipv6:".
      std::string_view lit = std::string_view(domain).substr(1, domain.size() - 2);
      bool v6 = lit.substr(0, 5) == "ipv6:";
      nh.name = v6 ? absl::StrCat("[", av(lit.substr(5)), "]:", _config.mx_port)
                   : absl::StrCat(av(lit), ":", _config.mx_port);
    } else if (!_config.relay_host.empty()) {
      nh.name = _config.relay_host;
    } else {
      nh.use_mx = true;
      nh.name = domain;
    }
    // A route or relay host may carry its own TLS policy: HOST:PORT/MODE.
    parse_tls_policy(_config.outbound_tls, &nh.tls);
    if (size_t slash = nh.name.rfind('/'); !nh.use_mx && slash != std::string::npos) {
      parse_tls_policy(std::string_view(nh.name).substr(slash + 1), &nh.tls);
      nh.name.resize(slash);
    }
    // One destination per MX domain, or per fixed host: all domains routed
    // to one host share its connection pool.
    std::string key = nh.use_mx ? nh.name : absl::StrCat("[", nh.name, "]");
    if (nh.tls != proto::TlsPolicy::kOpportunistic) {
      absl::StrAppend(&key, "/tls", static_cast<int>(nh.tls));  // policies do not share pools
    }
    auto [it, fresh] = jobs.try_emplace(key);
    DeliveryJob& job = it->second;
    if (fresh) {
      job.origin = _id;
      job.message = handle;
      job.dest_key = key;
      job.nexthop = std::move(nh);
      job.queue_id = m.queue_id;
      job.envelope = &m.envelope;
      job.trace_headers = m.trace_headers;
      job.body = m.body;
    }
    job.rcpts.push_back(i);
    job.attempts.push_back(st.attempts + 1);
  }
  for (auto& [key, job] : jobs) {
    ++lm.jobs_out;
    unsigned owner = static_cast<unsigned>(std::hash<std::string_view>{}(key) % _mesh->size());
    send_to_shard(owner, std::move(job));
  }
  if (!local.outcomes.empty()) {
    ++lm.jobs_out;
    send_to_shard(_id, std::move(local));
  }
}

void Shard::send_to_shard(unsigned to, ShardMessage&& m) {
  // try_push leaves the item untouched when the queue is full.
  if (!_outbox.empty() || !_mesh->push(_id, to, std::move(m))) {
    _outbox.emplace_back(to, std::move(m));
  }
}

void Shard::flush_outbox() {
  while (!_outbox.empty() && _mesh->push(_id, _outbox.front().first, std::move(_outbox.front().second))) {
    _outbox.pop_front();
  }
}

void Shard::on_message(ShardMessage&& m) {
  if (auto* job = std::get_if<DeliveryJob>(&m)) {
    enqueue_job(std::move(*job));
  } else {
    on_result(std::move(std::get<DeliveryResult>(m)));
  }
}

void Shard::on_result(DeliveryResult&& r) {
  auto it = _live.find(r.message);
  if (it == _live.end()) {
    return;
  }
  LiveMessage& lm = *it->second;
  const proto::CompletedMessage& m = *lm.msg;
  const absl::Time now = absl::Now();
  const bool expired = now - m.arrival >= absl::Seconds(static_cast<int64_t>(_config.queue_lifetime_s));
  for (RcptOutcome& o : r.outcomes) {
    RcptState& st = lm.rcpts[o.rcpt];
    ++st.attempts;
    if (o.outcome == Outcome::kDeferred && expired) {
      o.outcome = Outcome::kBounced;
      o.response = absl::StrCat("gave up after ", st.attempts, " attempts (queue lifetime ",
                                _config.queue_lifetime_s, "s); last error: ", o.response);
      o.status = "4.4.7";
    }
    switch (o.outcome) {
      case Outcome::kDelivered:
        st.status = spool::RcptStatus::kDelivered;
        ++_stats.delivered;
        break;
      case Outcome::kDeferred:
        st.status = spool::RcptStatus::kDeferred;
        st.next_retry = now + backoff(_config, st.attempts);
        ++_stats.deferred;
        break;
      case Outcome::kBounced:
        st.status = spool::RcptStatus::kBounced;
        ++_stats.bounced;
        break;
    }
    spool::RecipientStateRecord rec;
    rec.queue_id = m.queue_id;
    rec.rcpt_index = o.rcpt;
    rec.state.status = st.status;
    rec.state.attempts = st.attempts;
    rec.state.next_retry = st.next_retry;
    // Not waited for: a state record lost in a crash only means one more
    // delivery attempt (SMTP is at-least-once).
    _spool->append_state(rec);
    if (_state_pending_since_ms == 0) {
      _state_pending_since_ms = monotonic_ms();
    }

    DeliveryEvent e;
    e.type = outcome_name(o.outcome);
    e.queue_id = m.queue_id;
    e.sender = m.envelope.sender;
    e.recipient = m.envelope.recipients[o.rcpt];
    e.host = o.host;
    e.ip = o.ip;
    e.code = o.code;
    e.status = o.status;
    e.response = o.response;
    e.attempt = st.attempts;
    e.time = now;
    e.next_retry = st.next_retry;
    _events.add(e);
    if (o.outcome == Outcome::kBounced) {
      lm.bounced.push_back(std::move(o));
    }
  }
  if (--lm.jobs_out == 0) {
    finish_attempt(r.message);
  }
}

void Shard::finish_attempt(uint64_t handle) {
  auto it = _live.find(handle);
  LiveMessage& lm = *it->second;
  if (!lm.bounced.empty()) {
    // RFC 5321 6.1: never a bounce for a bounce (null sender).
    if (!lm.is_dsn) {
      send_dsn(lm);
    }
    lm.bounced.clear();
  }
  if (lm.final()) {
    _live.erase(it);
    return;
  }
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& r : lm.rcpts) {
    if (r.status == spool::RcptStatus::kDeferred) {
      due = std::min(due, r.next_retry);
    }
  }
  _retry_heap.emplace_back(due, handle);
  std::push_heap(_retry_heap.begin(), _retry_heap.end(), retry_later);
}

void Shard::run_retries(absl::Time now) {
  while (!_retry_heap.empty() && _retry_heap.front().first <= now) {
    std::pop_heap(_retry_heap.begin(), _retry_heap.end(), retry_later);
    uint64_t handle = _retry_heap.back().second;
    _retry_heap.pop_back();
    auto it = _live.find(handle);
    if (it != _live.end() && it->second->jobs_out == 0) {
      dispatch(handle);
    }
  }
}

void Shard::send_dsn(LiveMessage& lm) {
  const proto::CompletedMessage& orig = *lm.msg;
  const absl::Time now = absl::Now();
  proto::DsnInput in;
  in.reporting_mta = _config.hostname;
  in.original_queue_id = orig.queue_id;
  in.original_sender = orig.envelope.sender;
  in.arrival = orig.arrival;
  in.now = now;
  for (const RcptOutcome& o : lm.bounced) {
    proto::DsnRecipient d;
    d.address = orig.envelope.recipients[o.rcpt];
    d.status = o.status.empty() ? (o.code >= 500 ? "5.0.0" : "4.0.0") : o.status;
    d.action = "failed";
    d.remote_mta = o.host.empty() ? "" : absl::StrCat("dns; ", o.host);
    d.diagnostic = o.code != 0 ? absl::StrCat("smtp; ", o.code, " ", o.status, " ", o.response)
                               : absl::StrCat("x-local; ", o.response);
    in.recipients.push_back(std::move(d));
  }
  std::string content = orig.trace_headers + orig.body;
  in.original_content = content;
  auto dsn = std::make_unique<proto::CompletedMessage>();
  dsn->queue_id = _ids->next(now);
  in.boundary_seed = dsn->queue_id;
  dsn->arrival = now;
  dsn->envelope.recipients.push_back(orig.envelope.sender);
  dsn->envelope.helo = _config.hostname;
  dsn->envelope.client_addr = "127.0.0.1";
  dsn->envelope.smtputf8 = orig.envelope.smtputf8;
  dsn->body = proto::build_dsn(in);
  log_info("%s: bounced %zu recipient(s); DSN %s to <%s>", orig.queue_id, lm.bounced.size(),
           dsn->queue_id, orig.envelope.sender);
  store_generated(std::move(dsn));
}

}  // namespace ringmta
