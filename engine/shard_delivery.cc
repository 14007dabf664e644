// engine/shard_delivery.cc — delivery, origin side. The shard that spooled a
// message owns it until every recipient is final: it groups the recipients
// by destination, hands one DeliveryJob per destination to the shard that
// owns that destination (through the mesh, also when that is itself, so no
// call here ever re-enters), and applies the results: state records into
// its spool, one event-log line per recipient, retries with exponential
// backoff, and a DSN to the sender for what bounced (shard_dsn.cc).
//
// Between attempts a message keeps only its metadata; its content comes
// back from the spool for the next one (shard_loading.cc). When it is final
// its segment stops counting it (shard_retention.cc).
#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "engine/shard.h"

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

void Shard::adopt(const spool::RecoveredMessage& r) {
  auto lm = std::make_unique<LiveMessage>();
  lm->record = SpoolRef{r.record_offset, static_cast<uint32_t>(r.record_size),
                        SpoolRef::kRecovered | r.segment};
  lm->id = QueueIdKey(r.queue_id);
  lm->is_dsn = r.envelope.sender.empty();
  for (const spool::RecipientState& st : r.rcpt_state) {
    lm->rcpts.push_back(RcptState{st.status, st.attempts, st.next_retry});
  }
  // Copied into this shard's own segment as soon as it is read back, so
  // that the segments recovery found can be deleted (recovered_spool.h).
  lm->want_copy = true;
  const uint64_t handle = _next_handle++;
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& st : lm->rcpts) {
    if (!spool::is_final(st.status)) {
      due = std::min(due, st.status == spool::RcptStatus::kDeferred ? st.next_retry : absl::InfinitePast());
    }
  }
  LiveMessage& ref = *lm;
  _live.emplace(handle, std::move(lm));
  if (due <= absl::Now()) {
    ref.want_dispatch = true;
  } else {
    push_retry(due, handle);
  }
  request_load(handle);  // read once the shard runs, under the memory budget
}

void Shard::deliver(std::unique_ptr<proto::CompletedMessage> m, SpoolRef ref, bool is_dsn) {
  if (_config.hold) {
    return;  // spooled; a later start without --hold delivers it
  }
  auto lm = std::make_unique<LiveMessage>();
  lm->rcpts.resize(m->envelope.recipients.size());
  lm->id = QueueIdKey(m->queue_id);
  lm->record = ref;
  lm->is_dsn = is_dsn || m->envelope.sender.empty();
  const uint64_t bytes = m->trace_headers.size() + m->body.size();
  const uint64_t handle = _next_handle++;
  LiveMessage& live = *lm;
  _live.emplace(handle, std::move(lm));
  if (ref.valid() && _body_bytes + bytes > _config.memory_budget) {
    // Over the budget a new message goes metadata-only too: read back
    // from the spool when its turn comes (then a message is let in even
    // past the budget if nothing else is in memory, so nothing starves).
    live.want_dispatch = true;
    request_load(handle);
    return;
  }
  hold_bytes(bytes);
  live.msg = std::move(m);
  dispatch_now(handle);
}

// attempt delivers the recipients that are due, reading the message back
// first if only its metadata is in memory.
void Shard::attempt(uint64_t handle) {
  auto it = _live.find(handle);
  if (it == _live.end() || it->second->jobs_out != 0) {
    return;
  }
  LiveMessage& lm = *it->second;
  if (lm.msg) {
    dispatch_now(handle);
    return;
  }
  lm.want_dispatch = true;
  request_load(handle);
}

// dispatch_now: dispatch, and if nothing turned out to be due, back to
// waiting (metadata-only).
void Shard::dispatch_now(uint64_t handle) {
  dispatch(handle);
  LiveMessage& lm = *_live.at(handle);
  if (lm.jobs_out == 0) {
    if (lm.want_copy) {
      append_copy(handle);
    }
    drop_body(lm);
    schedule_retry(handle, lm);
  }
}

void Shard::push_retry(absl::Time due, uint64_t handle) {
  _retry_heap.emplace_back(due, handle);
  std::push_heap(_retry_heap.begin(), _retry_heap.end(), retry_later);
}

void Shard::schedule_retry(uint64_t handle, const LiveMessage& lm) {
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& r : lm.rcpts) {
    if (r.status == spool::RcptStatus::kDeferred) {
      due = std::min(due, r.next_retry);
    } else if (!spool::is_final(r.status)) {
      due = absl::InfinitePast();
    }
  }
  if (due == absl::InfiniteFuture()) {
    return;
  }
  push_retry(due, handle);
}

// dispatch needs the content in memory (attempt() sees to it).
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
    // delivery attempt (SMTP is at-least-once). The message counts as final
    // only once it is durable, though (shard_retention.cc, rule 1).
    lm.last_ticket = _spool->append_state(rec);
    if (_state_pending_since_ms == 0) {
      _state_pending_since_ms = monotonic_ms();
    }

    DeliveryEvent e;
    e.type = outcome_name(o.outcome);
    e.queue_id = m.queue_id;
    e.sender = m.envelope.sender;
    e.auth_user = m.envelope.auth_user;
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
      if (!lm.bounced) {
        lm.bounced = std::make_unique<std::vector<RcptOutcome>>();
      }
      lm.bounced->push_back(std::move(o));
    }
  }
  if (--lm.jobs_out == 0) {
    finish_attempt(r.message);
  }
}

void Shard::finish_attempt(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  if (lm.bounced) {
    // RFC 5321 6.1: never a bounce for a bounce (null sender).
    if (!lm.is_dsn) {
      lm.last_ticket = std::max(lm.last_ticket, send_dsn(lm));
    }
    lm.bounced.reset();
  }
  if (lm.final()) {
    finalize(handle);
    return;
  }
  if (lm.want_copy) {
    append_copy(handle);
  }
  drop_body(lm);  // deferred: only its metadata stays in memory
  schedule_retry(handle, lm);
}

// finalize forgets a message whose recipients are all final; its segment
// stops counting it once its last record is durable (shard_retention.cc).
void Shard::finalize(uint64_t handle) {
  auto it = _live.find(handle);
  LiveMessage& lm = *it->second;
  AfterDurable ev;
  ev.ticket = lm.last_ticket;
  ev.kind = AfterDurable::Kind::kRelease;
  ev.handle = handle;
  ev.a = lm.record;
  ev.b = lm.copy;  // a copy already counted (placed, snapshot pending)
  drop_body(lm);
  if (lm.msg) {
    _body_bytes -= lm.msg->trace_headers.size() + lm.msg->body.size();  // kept: no record to read
  }
  _live.erase(it);
  after_durable(ev);
}

void Shard::run_retries(absl::Time now) {
  while (!_retry_heap.empty() && _retry_heap.front().first <= now) {
    std::pop_heap(_retry_heap.begin(), _retry_heap.end(), retry_later);
    uint64_t handle = _retry_heap.back().second;
    _retry_heap.pop_back();
    attempt(handle);
  }
}

}  // namespace ringmta
