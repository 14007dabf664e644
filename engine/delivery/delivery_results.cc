// engine/delivery/delivery_results.cc — what comes back: applying each
// recipient's outcome (state record, event-log line, backoff or bounce),
// then retrying, bouncing or forgetting the message (delivery.h).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/delivery/bounce_class.h"
#include "engine/delivery/delivery.h"

namespace ringmta {
namespace {

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

// class_of: every failure (deferred or bounced, remote or ringmta's own)
// gets the class of the first rule that matches "CODE ENHANCED TEXT"; a
// delivery is Uncategorized, as in KumoMTA's logs, and costs no match.
BounceClass class_of(const Config& c, const RcptOutcome& o) {
  if (o.outcome == Outcome::kDelivered || c.bounce_classifier == nullptr) {
    return BounceClass::kUncategorized;
  }
  return c.bounce_classifier->classify(o.code, o.status, o.response);
}

}  // namespace

void Delivery::on_result(DeliveryResult&& r) {
  LiveMessage* lm = _table.find(r.message);
  if (lm == nullptr) {
    return;
  }
  const absl::Time now = absl::Now();
  const bool expired =
      now - lm->msg->arrival >= absl::Seconds(static_cast<int64_t>(_ctx.config.queue_lifetime_s));
  for (RcptOutcome& o : r.outcomes) {
    record_outcome(*lm, o, r, now, expired);
  }
  if (--lm->jobs_out == 0) {
    finish_attempt(r.message);
  }
}

// record_outcome applies one recipient's outcome: its state, the state
// record, the event-log line, and a bounce kept for the DSN.
void Delivery::record_outcome(LiveMessage& lm, RcptOutcome& o, const DeliveryResult& r, absl::Time now,
                              bool expired) {
  const proto::CompletedMessage& m = *lm.msg;
  RcptState& st = lm.rcpts[o.rcpt];
  if (!o.held) {
    ++st.attempts;  // a held recipient was not tried: its backoff does not grow
  }
  if (o.outcome == Outcome::kDeferred && expired && !o.admin_hold) {
    o.outcome = Outcome::kBounced;
    o.response = absl::StrCat("gave up after ", st.attempts, " attempts (queue lifetime ",
                              _ctx.config.queue_lifetime_s, "s); last error: ", o.response);
    o.status = "4.4.7";
    o.internal = true;  // ringmta gave up, whoever said the last error
  }
  // Classified once, here on the origin: the event, the DSN and later
  // suppression all read it from the outcome.
  o.bounce_class = class_of(_ctx.config, o);
  ++_stats.by_class[static_cast<size_t>(o.outcome)][static_cast<size_t>(o.bounce_class)];
  if (o.outcome != Outcome::kDelivered) {
    note_error(m.envelope.recipients[o.rcpt],
               o.code != 0 ? absl::StrCat(o.code, " ", o.status, o.status.empty() ? "" : " ", o.response) : o.response,
               now);
  }
  if (o.outcome != Outcome::kDeferred) {
    _stats.latency.observe(absl::ToDoubleSeconds(now - m.arrival));
  }
  switch (o.outcome) {
    case Outcome::kDelivered:
      st.status = spool::RcptStatus::kDelivered;
      _table.domains().release(st.domain);
      st.domain = DomainIds::kNone;
      ++_stats.delivered;
      break;
    case Outcome::kDeferred:
      st.status = spool::RcptStatus::kDeferred;
      st.next_retry = o.retry_at > now ? o.retry_at : now + backoff(_ctx.config, std::max<uint32_t>(1, st.attempts));
      ++_stats.deferred;
      break;
    case Outcome::kBounced:
      st.status = spool::RcptStatus::kBounced;
      _table.domains().release(st.domain);
      st.domain = DomainIds::kNone;
      ++_stats.bounced;
      break;
  }
  // Not waited for: a state record lost in a crash only means one more
  // delivery attempt (SMTP is at-least-once). The message counts as final
  // only once it is durable, though (engine/store/retention.h, rule 1).
  lm.last_ticket =
      _store.append_state(m.queue_id, o.rcpt, spool::RecipientState{st.status, st.attempts, st.next_retry});

  DeliveryEvent e;
  e.type = o.suppressed ? "suppressed" : o.feedback ? "feedback" : o.admin_bounce ? "admin_bounce" : outcome_name(o.outcome);
  e.queue_id = m.queue_id;
  e.sender = m.envelope.sender;
  e.auth_user = m.envelope.auth_user;
  e.tenant = m.envelope.tenant;
  e.campaign = m.envelope.campaign;
  if (r.source != nullptr) {
    e.source = r.source->name;
    e.pool = r.pool->name;
  }
  e.recipient = m.envelope.recipients[o.rcpt];
  e.host = o.host;
  e.ip = o.ip;
  e.code = o.code;
  e.status = o.status;
  e.response = o.response;
  e.bounce_class = bounce_class_name(o.bounce_class);
  e.attempt = st.attempts;
  e.time = now;
  e.next_retry = st.next_retry;
  _events.add(e);
  if (o.suppressed) {
    _suppression->count_dropped();
  } else if (_suppression != nullptr && o.outcome == Outcome::kBounced && o.rcpt_refused && o.code >= 500 &&
             o.code < 600) {
    // Only a remote server's 5xx to this recipient's RCPT TO says the
    // address is bad: not ringmta's own verdicts (an unsafe address, a
    // resolver's NXDOMAIN), not a refusal of the sender or the content.
    _suppression->on_bounce(m.queue_id, e.recipient, m.envelope.campaign, o.bounce_class, o.code, o.status,
                            o.response);
  }
  if (o.outcome == Outcome::kBounced && !o.no_dsn) {
    if (!lm.bounced) {
      lm.bounced = std::make_unique<std::vector<RcptOutcome>>();
    }
    lm.bounced->push_back(std::move(o));
  }
}

void Delivery::finish_attempt(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
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
  if (!_admin_bounces.empty() && apply_admin_bounce(handle)) {
    return;  // an operator bounced it while this attempt was out
  }
  if (lm.want_copy) {
    _retention.append_copy(handle);
  }
  _loader.drop_body(lm);  // deferred: only its metadata stays in memory
  schedule_retry(handle, lm);
}

// finalize forgets a message whose recipients are all final; its segment
// stops counting it once its last record is durable.
void Delivery::finalize(uint64_t handle) {
  if (!_shows.empty()) {
    answer_shows(handle);
  }
  _admin_bounces.erase(handle);
  LiveMessage& lm = _table.at(handle);
  _retention.on_final(lm);
  _loader.drop_body(lm);
  if (lm.msg) {
    _loader.forget(lm.msg->trace_headers.size() + lm.msg->body.size());  // kept: no record to read
  }
  _table.erase(handle);
}

void Delivery::schedule_retry(uint64_t handle, const LiveMessage& lm) {
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& r : lm.rcpts) {
    if (r.status == spool::RcptStatus::kDeferred) {
      due = std::min(due, r.next_retry);
    } else if (!spool::is_final(r.status)) {
      due = absl::InfinitePast();
    }
  }
  if (due != absl::InfiniteFuture()) {
    _retries.push(due, handle);
  }
}

}  // namespace ringmta
