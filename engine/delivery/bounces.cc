// engine/delivery/bounces.cc — bounces: the RFC 3464 delivery status
// notification a shard sends to the envelope sender for the recipients that
// bounced in one attempt. It is spooled like any message and delivered once
// durable; its ticket tells the original message when its own record may
// go (engine/store/retention.h, rule 1).
#include "absl/strings/str_cat.h"
#include "engine/delivery/delivery.h"
#include "engine/runtime/log.h"
#include "proto/dsn.h"

namespace ringmta {

uint64_t Delivery::send_dsn(LiveMessage& lm) {
  const proto::CompletedMessage& orig = *lm.msg;
  const absl::Time now = absl::Now();
  proto::DsnInput in;
  in.reporting_mta = _ctx.config.hostname;
  in.original_queue_id = orig.queue_id;
  in.original_sender = orig.envelope.sender;
  in.arrival = orig.arrival;
  in.now = now;
  for (const RcptOutcome& o : *lm.bounced) {
    proto::DsnRecipient d;
    d.address = orig.envelope.recipients[o.rcpt];
    d.status = o.status.empty() ? (o.code >= 500 ? "5.0.0" : "4.0.0") : o.status;
    d.action = "failed";
    d.remote_mta = o.host.empty() ? "" : absl::StrCat("dns; ", o.host);
    d.bounce_class = std::string(bounce_class_name(o.bounce_class));
    d.diagnostic = o.code != 0 ? absl::StrCat("smtp; ", o.code, " ", o.status, " ", o.response)
                               : absl::StrCat("x-local; ", o.response);
    in.recipients.push_back(std::move(d));
  }
  std::string content = orig.trace_headers + orig.body;
  in.original_content = content;
  auto dsn = std::make_unique<proto::CompletedMessage>();
  dsn->queue_id = _store.new_queue_id();
  in.boundary_seed = dsn->queue_id;
  dsn->arrival = now;
  dsn->envelope.recipients.push_back(orig.envelope.sender);
  dsn->envelope.helo = _ctx.config.hostname;
  dsn->envelope.client_addr = "127.0.0.1";
  dsn->envelope.smtputf8 = orig.envelope.smtputf8;
  dsn->body = proto::build_dsn(in);
  log_info("%s: bounced %zu recipient(s); DSN %s to <%s>", orig.queue_id, lm.bounced->size(), dsn->queue_id,
           orig.envelope.sender);
  return _store.append_message(std::move(dsn), Store::kNoSession, 0);
}

}  // namespace ringmta
