// engine/outbound/outbound_transaction.cc — what runs over an outbound
// connection: drive() after input, a send or a timeout; a transaction
// started within the queue's limits (message rate, deliveries per
// connection, suspension); its replies turned into one outcome per
// recipient, each seen by the backoff rules first (outbound.h).
#include <string_view>

#include "engine/outbound/outbound.h"
#include "engine/runtime/clock.h"
#include "proto/verp.h"

namespace ringmta {
namespace {

Outcome outcome_for(int code) {
  if (code >= 200 && code < 300) {
    return Outcome::kDelivered;
  }
  return code >= 500 ? Outcome::kBounced : Outcome::kDeferred;
}

bool has_8bit(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      return true;
    }
  }
  return false;
}

}  // namespace
void Outbound::drive(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  if (c.shut) {
    release(slot);
    return;
  }
  proto::ClientSession& s = *c.session;
  SiteQueue& q = *_sites.at(c.site_key);
  if (s.wants_tls() && !c.tls && !start_tls(slot)) {
    s.on_connection_lost();
  }
  bool held = false;  // the message rate holds the next transaction back
  for (;;) {
    if (s.has_result()) {
      finish_job(slot, s.take_result());
    }
    if (s.ready() && !c.chunk && !q.queue.empty() && c.messages < q.limits.max_deliveries_per_connection &&
        !_ctx.stopping && !suspended(q) && q.conns.size() <= q.limits.connection_limit) {
      if (may_start(q, monotonic_us() * 1000)) {
        start_job(slot);
      } else {
        held = true;
      }
    }
    if (s.has_result()) {
      // A transaction refused before a byte of it was sent (an unsafe
      // address, a message over the server's SIZE): finish it and maybe
      // start the next, rather than wait for input that will not come.
      continue;
    }
    if (c.pending.empty()) {
      break;
    }
    size_t used = s.consume(c.pending);
    c.pending.erase(0, used);
    if (used == 0 && !s.has_result()) {
      break;
    }
  }
  if (s.failed() && !c.was_ready) {
    shut(slot);  // release moves on to the next mail exchanger
    return;
  }
  if (s.ready()) {
    c.was_ready = true;
  }
  if (s.ready() && !c.chunk) {
    // Idle, kept for the next job, while there may be one for it: the
    // queue is empty, or the rate holds it back (pump wakes it).
    if ((q.queue.empty() || held) && !_ctx.stopping && c.messages < q.limits.max_deliveries_per_connection &&
        !suspended(q) && q.conns.size() <= q.limits.connection_limit) {
      if (c.idle_since_ms == 0) {
        c.idle_since_ms = monotonic_ms();
      }
    } else {
      s.quit();
    }
  }
  flush(slot);
  if (s.closed() && c.io.sending.empty() && !c.io.send_in_flight) {
    shut(slot);
  }
}

void Outbound::start_job(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  SiteQueue& q = *_sites.at(c.site_key);
  c.chunk = q.queue.front();
  q.queue.pop_front();
  c.idle_since_ms = 0;
  ++c.messages;
  const DeliveryJob& job = c.chunk->job->job;
  const proto::CompletedMessage& msg = *job.message;
  proto::OutboundMessage m;
  m.sender = msg.envelope.sender;
  for (uint32_t i = c.chunk->begin; i < c.chunk->end; ++i) {
    m.recipients.push_back(msg.envelope.recipients[job.rcpts[i]]);
  }
  if (job.verp) {
    // PREFIX+TOKEN@VERP_DOMAIN (proto/verp.h): a bounce names this message
    // and recipient. A recipient the token cannot carry (a quoted local
    // part) goes with the plain sender.
    const Config& cfg = _ctx.config;
    c.verp_sender = proto::verp_sender(cfg.feedback_key, cfg.feedback_verp_prefix, cfg.feedback_verp_domain,
                                       msg.queue_id, m.recipients.front());
    if (!c.verp_sender.empty()) m.sender = c.verp_sender;
  }
  m.trace_headers = msg.trace_headers;
  m.body = msg.body;
  m.smtputf8 = msg.envelope.smtputf8;
  m.body_type = msg.envelope.body == proto::BodyType::k8BitMime || has_8bit(msg.body) ? proto::BodyType::k8BitMime
                                                                                       : msg.envelope.body;
  c.session->send_message(m);
  c.deadline_ms = monotonic_ms() + static_cast<int64_t>(_ctx.config.smtp_timeout_s) * 1000;
  flush(slot);  // a job handed to an idle connection has nobody else to send it
}

void Outbound::finish_job(uint32_t slot, proto::TransactionResult&& t) {
  OutboundConn& c = _conns[slot];
  if (!c.chunk) {
    return;
  }
  const Chunk chunk = *c.chunk;
  c.chunk.reset();
  const DeliveryJob& job = chunk.job->job;
  SiteQueue& q = *_sites.at(c.site_key);
  std::vector<RcptOutcome> outcomes;
  const proto::Reply* matched = nullptr;  // the last reply the rules saw, and what they said
  bool bounce = false;
  for (uint32_t i = chunk.begin; i < chunk.end; ++i) {
    const size_t n = i - chunk.begin;
    const proto::Reply& reply = n < t.recipients.size() ? t.recipients[n].reply : t.data_reply;
    const bool rcpt_refused = n < t.recipients.size() && t.recipients[n].rcpt_refused;
    if (matched == nullptr || reply.code != matched->code || reply.text != matched->text) {
      bounce = on_reply(q, reply, &job);  // once per distinct reply, not per recipient
      matched = &reply;
    }
    RcptOutcome o;
    o.rcpt = job.rcpts[i];
    o.code = reply.code;
    o.outcome = reply.code == 0 ? Outcome::kDeferred : outcome_for(reply.code);
    if (bounce && o.outcome == Outcome::kDeferred) {
      o.outcome = Outcome::kBounced;  // a rule says this temporary failure will not get better
    }
    // 421: the server is closing the session (RFC 5321 3.8), not judging
    // the recipient: not a failed attempt.
    o.held = reply.code == 421 && !reply.local;
    o.status = reply.enhanced;
    o.response = reply.text;
    o.internal = reply.local;  // lost connection, timeout, TLS required, ...: made by the client session
    o.rcpt_refused = rcpt_refused;
    o.host = c.host;
    o.ip = c.ip;
    outcomes.push_back(std::move(o));
  }
  complete(q, chunk, std::move(outcomes));
}

}  // namespace ringmta
