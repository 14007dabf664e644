// engine/delivery/delivery_job.h — what shards hand each other for delivery.
//
// The shard that spooled a message (its "origin") owns it: the envelope,
// the content and the per-recipient state. It sends a DeliveryJob per
// destination to the shard that owns that destination (hash of its key);
// that shard delivers and sends back one DeliveryResult per job.
//
// The borrowing rule. DESIGN.md says ownership moves with the message; a job
// is the one exception, on purpose: it carries a MessageLoan, a view of the
// origin's message, not a copy (no copy of a body, no atomic reference
// count across threads). Like Seastar's foreign_ptr, the loan says in its
// type that the object lives on another shard:
//   - the origin keeps the message alive and unchanged while any job for
//     it is out (LiveMessage::jobs_out; its content is never dropped then);
//   - the owner may read it, on its own thread, only through the loan;
//   - the loan cannot be copied, and the only way to answer a job,
//     DeliveryJob::answer(), ends it: a result never carries it back, and a
//     job that was answered holds nothing.
// So the message is released by the result that comes back, and nothing on
// the owner can keep a pointer into it past that result.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "engine/admin/admin_call.h"
#include "engine/delivery/bounce_class.h"
#include "proto/client_session.h"
#include "proto/server_session.h"

namespace ringmta {

// MessageLoan: a read-only view of the origin shard's message, valid until
// the job that carries it is answered. Move-only; a moved-from or ended
// loan holds nothing.
class MessageLoan {
 public:
  MessageLoan() = default;
  explicit MessageLoan(const proto::CompletedMessage& m) : _m(&m) {}
  MessageLoan(MessageLoan&& o) noexcept : _m(o._m) { o._m = nullptr; }
  MessageLoan& operator=(MessageLoan&& o) noexcept {
    _m = o._m;
    o._m = nullptr;
    return *this;
  }
  MessageLoan(const MessageLoan&) = delete;
  MessageLoan& operator=(const MessageLoan&) = delete;

  const proto::CompletedMessage& operator*() const {
    assert(_m != nullptr);
    return *_m;
  }
  const proto::CompletedMessage* operator->() const { return &**this; }
  bool held() const { return _m != nullptr; }
  void end() { _m = nullptr; }

 private:
  const proto::CompletedMessage* _m = nullptr;
};

// Nexthop is where a destination's mail goes: a fixed HOST:PORT (a route or
// the relay host), or the MX hosts of a domain.
struct Nexthop {
  bool use_mx = false;
  std::string name;  // domain (use_mx) or HOST:PORT, or (lmtp) unix:/PATH
  proto::TlsPolicy tls = proto::TlsPolicy::kOpportunistic;
  bool lmtp = false;  // a route "lmtp:HOST:PORT" or "lmtp:unix:/PATH" (RFC 2033)
};

enum class Outcome : uint8_t { kDelivered, kDeferred, kBounced };

struct RcptOutcome {
  uint32_t rcpt = 0;
  Outcome outcome = Outcome::kDeferred;
  int code = 0;
  std::string status;    // enhanced status code
  std::string response;  // remote reply text, or the local reason
  std::string host;      // remote host name ("" if none reached)
  std::string ip;
  // held: the site deferred it without trying (a suspended or throttled
  // queue, a 421 that closed the session): not a failed attempt, so the
  // backoff does not grow. retry_at: when to try again, if the site knows.
  bool held = false;
  absl::Time retry_at = absl::InfinitePast();
  // internal: ringmta made this outcome itself (DNS, connect, TLS, timeout,
  // a held queue, queue lifetime), no remote server said it.
  bool internal = false;
  // admin_hold: held by an operator's hold (ringmta-ctl hold): held mail
  // does not expire (postsuper -h).
  bool admin_hold = false;
  // admin_bounce: an operator bounced it (ringmta-ctl bounce): the event
  // is "admin_bounce"; no_dsn: and asked for no DSN.
  bool admin_bounce = false;
  bool no_dsn = false;
  // suppressed: the suppression list stopped it before any attempt; the
  // event is "suppressed" and there is no DSN (suppression.h).
  bool suppressed = false;
  // rcpt_refused: the remote server refused this recipient at RCPT TO
  // (proto::RecipientResult): the only reply that says an address is bad,
  // so the only one that may add it to the suppression list.
  bool rcpt_refused = false;
  // feedback: a recipient at a feedback domain, read (feedback.h), not
  // relayed; the event is "feedback".
  bool feedback = false;
  // bounce_class: what kind of failure it is (bounce_class.h), set by the
  // origin when it records the outcome; kUncategorized for a delivery.
  BounceClass bounce_class = BounceClass::kUncategorized;
};

struct EgressSource;  // engine/outbound/egress.h
struct EgressPool;

struct DeliveryResult {
  uint64_t message = 0;  // the origin's handle
  std::vector<RcptOutcome> outcomes;
  // The egress source and pool the job went from (null without [egress]);
  // they point into the Config, which every shard reads and nobody changes.
  const EgressSource* source = nullptr;
  const EgressPool* pool = nullptr;
};

struct SiteRoute;  // engine/outbound/site_route.h

// A job goes to two owners in turn: the shard that owns its destination
// (hash of dest_key) routes it — MX lookup or fixed host — and sets `route`
// and `site_key`; then the shard that owns site_key (hash of it) queues it
// on that (source, site) queue and delivers it. Both may be one shard.
struct DeliveryJob {
  uint32_t origin = 0;       // shard that owns the message
  uint64_t handle = 0;       // the origin's handle for it
  std::string dest_key;      // routing key: the recipients' nexthop
  Nexthop nexthop;
  std::string domain;        // the recipients' domain, "" when they have several
  const EgressSource* source = nullptr;  // egress source (in the Config); null = the host's default address
  const EgressPool* pool = nullptr;      // the pool it was chosen from
  std::string site_key;      // source + "|" + site, once routed
  std::shared_ptr<const SiteRoute> route;  // set with site_key
  std::string rule_domain;   // set with site_key: the domain whose shaping rule applies, if any
  MessageLoan message;       // borrowed from the origin until answered
  // verp: sent from a VERP sender per recipient (feedback.verp), one
  // recipient per transaction (engine/outbound/outbound_transaction.cc).
  bool verp = false;
  std::vector<uint32_t> rcpts;     // indices into message->envelope.recipients
  std::vector<uint32_t> attempts;  // per rcpt: which attempt this is (1 = first)

  // answer ends the loan and makes the result that goes back to the origin
  // (outcomes for this job's recipients, by index).
  DeliveryResult answer(std::vector<RcptOutcome> outcomes) && {
    message.end();
    return DeliveryResult{handle, std::move(outcomes), source, pool};
  }
};

// Jobs to owners, results back to origins, and the admin API's calls
// (engine/admin/admin_call.h), which are rare: kept behind a pointer so
// that they do not make every message on the mesh larger.
using ShardMessage = std::variant<DeliveryJob, DeliveryResult, AdminCallPtr>;

}  // namespace ringmta
