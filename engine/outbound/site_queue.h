// engine/outbound/site_queue.h — delivery, owner side: one SiteQueue per
// (egress source, site) on the shard that owns that pair (hash of its key),
// with its queue of transactions, its pool of outbound connections and the
// limits that shape them (shaping.h). A site is where mail goes: the sorted
// set of a domain's MX hosts (so domains with the same MX hosts share one
// queue and one set of limits), or a fixed route/relay host.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/delivery/delivery_job.h"
#include "engine/outbound/egress.h"
#include "engine/outbound/shaping.h"
#include "engine/outbound/site_route.h"
#include "engine/runtime/socket_io.h"
#include "engine/tls/tls_session.h"
#include "proto/client_session.h"

namespace ringmta {

// JobInFlight is one job on its site, sent as one or more transactions
// (max_recipients_per_message); it is answered once all of them are done.
struct JobInFlight {
  DeliveryJob job;
  std::vector<RcptOutcome> outcomes;
  uint32_t chunks_left = 0;
};

// Chunk is one transaction's recipients: job.rcpts[begin, end).
struct Chunk {
  std::list<JobInFlight>::iterator job;
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct SiteQueue {
  std::string key;     // source + "|" + site
  std::string site;
  std::string source;  // egress source name, "" = the host's default address
  const EgressSource* egress = nullptr;  // its address and EHLO name (config; null for "")
  proto::TlsPolicy tls = proto::TlsPolicy::kOpportunistic;
  std::shared_ptr<const SiteRoute> route;  // the latest one a job brought
  std::vector<std::string> rule_domains;   // domains whose shaping rules apply here
  absl::flat_hash_set<std::string> domains;  // of the jobs seen here (a rule's `domain`), bounded
  SiteLimits configured;  // from the shaping tables
  SiteLimits limits;      // in force: configured, or a throttle's
  // Automatic backoff (backoff_rules.h): what a matching reply started.
  int64_t suspended_until_ms = 0;
  int64_t throttled_until_ms = 0;
  std::string suspended_by;  // the rule, for the event log and the queue summary
  std::string throttled_by;
  ShapingParams throttle;
  // A rule with `tenant` suspends that tenant's mail alone: tenant -> (until, rule).
  absl::flat_hash_map<std::string, std::pair<int64_t, std::string>> tenants_suspended;
  absl::flat_hash_map<size_t, std::deque<int64_t>> hits;  // rule -> recent matches (rules with a trigger)
  std::list<JobInFlight> jobs;  // every job here, queued or being sent
  std::deque<Chunk> queue;      // transactions waiting for a connection
  std::vector<uint32_t> conns;  // outbound connection slots, open or opening
  Gcra message_rate;
  Gcra connection_rate;
  int64_t wake_ns = 0;          // a rate held work back: pump again then
  std::string last_error;       // the last connection failure, for deferrals
  // An opportunistic TLS handshake failed here: later connections go in
  // plaintext (RFC 7435: encryption when it works, delivery regardless).
  bool tls_broken = false;
};

struct OutboundConn {
  SocketIo io;
  uint32_t gen = 0;
  std::string site_key;
  std::shared_ptr<const SiteRoute> route;  // the targets this connection walks
  std::unique_ptr<proto::ClientSession> session;
  std::unique_ptr<TlsSession> tls;  // after STARTTLS
  std::optional<Chunk> chunk;       // the transaction in progress
  std::string verp_sender;          // its VERP sender (the session holds a view of it)
  size_t target = 0;                // index into route->targets being tried
  std::string host;
  std::string ip;
  bool connecting = false;
  bool shut = false;
  bool was_ready = false;  // the session got through greeting and EHLO
  bool tls_failed = false; // the TLS handshake on this connection failed
  size_t plain_pos = 0;  // with TLS: how much of the session's output was encrypted
  // Server bytes the session did not take yet: it stops after a result
  // until the next message is handed to it.
  std::string pending;
  int64_t deadline_ms = 0;   // the reply we wait for is late after this
  int64_t idle_since_ms = 0;
  uint32_t messages = 0;

  bool idle_ops() const { return !connecting && io.idle(); }
};

}  // namespace ringmta
