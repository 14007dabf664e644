// engine/admin/admin_call.h — an operator's command or question on its way
// to every shard and its answer on the way back, over the shard mesh like
// delivery jobs (so a shard is woken for it, and handles it on its own
// thread, between its other work).
//
//   admin shard:  AdminCalls::broadcast(call, ...) → one AdminCall per shard
//   each shard:   Shard::on_mesh → answer_admin_call(call) → call.reply = true,
//                 call.result = its JSON part → back to call.from
//   admin shard:  AdminCalls::on_reply → once every shard answered, the
//                 parts are combined into the HTTP answer
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ringmta {

// AdminBlock: mail for `domain` is not sent: held until released (hold),
// or suspended until `until_s` (unix seconds). What a block stops goes back
// to its origin as deferred-but-held, not a failed attempt.
struct AdminBlock {
  std::string domain;
  bool hold = false;
  int64_t until_s = 0;  // suspensions; 0 for a hold
  std::string reason;
  int64_t since_s = 0;
};

// SiteRow: one (source, site) queue on the shard that owns it.
struct SiteRow {
  std::string site;
  std::string source;
  std::vector<std::string> domains;  // of the jobs seen there (at most 20)
  uint64_t messages = 0;    // jobs queued or being sent
  uint64_t recipients = 0;
  uint64_t waiting = 0;     // transactions waiting for a connection
  uint64_t connections = 0;
  int64_t oldest_s = 0;     // arrival (unix seconds) of its oldest message; 0: none
  std::string state;        // "ready", "suspended", "throttled" (shaping rules)
  int64_t until_s = 0;
  std::string reason;
  std::string last_error;
};

// DomainRow: what waits on an origin shard for one recipient domain (not
// in flight: deferred, or pending a read of its content).
struct DomainRow {
  std::string domain;
  uint64_t messages = 0;
  uint64_t recipients = 0;
  int64_t oldest_s = 0;
  int64_t next_retry_s = 0;  // 0: none deferred
  std::string last_error;
  int64_t last_error_s = 0;
};

// AdminBounce: which messages an administrative bounce takes (exactly one
// selector set), why, and whether their senders get a DSN.
struct AdminBounce {
  std::string domain;    // its recipients in this domain
  std::string queue_id;  // or: this message
  std::string sender;    // or: every message from this envelope sender
  std::string campaign;  // or: every message of this campaign (X-Ringmta-Campaign / campaign_id)
  std::string reason;
  bool dsn = true;
};

struct AdminCall {
  enum class Kind : uint8_t {
    kQueues,     // rows of what waits, by site and by domain (domain: a filter, "" for all)
    kFlush,      // deferred recipients (of domain, or all) are retried now
    kSetBlocks,  // blocks: the whole list in force (suspensions and holds)
    kShow,       // queue_id: that message, from the shard that has it
    kBounce,     // bounce: the messages it selects are bounced
  };
  Kind kind = Kind::kQueues;
  std::string domain;
  std::string queue_id;
  std::vector<AdminBlock> blocks;
  uint64_t blocks_version = 0;  // AdminState's: a shard keeps the newest list it got
  AdminBounce bounce;
  // Routing: which shard asked, which of its calls this is.
  unsigned from = 0;
  uint64_t call = 0;
  bool reply = false;
  // The answer.
  std::vector<SiteRow> sites;      // kQueues
  std::vector<DomainRow> domains;  // kQueues
  uint64_t count = 0;              // kFlush: recipients rescheduled; kBounce: messages taken
  std::string message;             // kShow: the message as JSON, "" if not on that shard
};

using AdminCallPtr = std::unique_ptr<AdminCall>;

}  // namespace ringmta
