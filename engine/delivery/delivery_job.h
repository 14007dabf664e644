// engine/delivery/delivery_job.h — what shards hand each other for delivery.
//
// The shard that spooled a message (its "origin") owns it: the envelope,
// the content and the per-recipient state. It sends a DeliveryJob per
// destination to the shard that owns that destination (hash of its key);
// that shard delivers and sends back one DeliveryResult per job. The job
// only borrows the message: the origin keeps it alive and unchanged until
// every job's result is back, so nothing is copied or reference-counted
// across threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/client_session.h"
#include "proto/envelope.h"

namespace ringmta {

// Nexthop is where a destination's mail goes: a fixed HOST:PORT (a route or
// the relay host), or the MX hosts of a domain.
struct Nexthop {
  bool use_mx = false;
  std::string name;  // domain (use_mx) or HOST:PORT
  proto::TlsPolicy tls = proto::TlsPolicy::kOpportunistic;
};

struct DeliveryJob {
  uint32_t origin = 0;       // shard that owns the message
  uint64_t message = 0;      // the origin's handle for it
  std::string dest_key;      // destination queue key on the owner
  Nexthop nexthop;
  // Borrowed from the origin until the result is back.
  std::string_view queue_id;
  const proto::Envelope* envelope = nullptr;
  std::string_view trace_headers;
  std::string_view body;
  std::vector<uint32_t> rcpts;     // indices into envelope->recipients
  std::vector<uint32_t> attempts;  // per rcpt: which attempt this is (1 = first)
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
};

struct DeliveryResult {
  uint64_t message = 0;
  std::vector<RcptOutcome> outcomes;
};

using ShardMessage = std::variant<DeliveryJob, DeliveryResult>;

}  // namespace ringmta
