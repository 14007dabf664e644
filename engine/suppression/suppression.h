// engine/suppression/suppression.h — a shard's use of the suppression list:
// the refusal at RCPT, the check before a recipient is handed to delivery,
// and the entries made on their own (hard bounces, complaints). The list
// itself is suppression_store.h's, shared by every shard.
//
//   Suppression sup(ctx, store, events);          // one per shard
//   std::string r = sup.rcpt_refusal(rcpt);       // "" or "550 5.7.1 <..>: ..."
//   const SuppressionEntry* e = sup.check(rcpt, tenant);   // before a job is made
//   sup.on_bounce(queue_id, rcpt, campaign, bounce_class, code, status, text);   // a final 5xx
//
// Where it applies, and why there:
// - RCPT TO: entries for every tenant (the tenant is in the message's
//   headers, which come later). refuse mode answers 550 5.7.1; drop mode
//   accepts, and the recipient is dropped at dispatch.
// - Delivery's dispatch, for every recipient about to be tried: entries for
//   every tenant and for the message's tenant. This is what catches mail
//   queued before its recipient was suppressed, drop mode's recipients and
//   tenant entries: they are finalized as "suppressed" (an event; no DSN —
//   the list exists so that they are not mailed, and a bulk sender's
//   return path is usually ringmta's own feedback domain).
// - HTTP injection: failed_recipients, with the reason (refuse mode).
//
// An entry made on its own goes to the store's writer thread; its
// "suppression_added" event is logged once the writer has committed it
// (poll), so that the event log never claims an entry the store does not
// have: a commit that fails is a warning in the log and
// `ringmta_suppression_failed_total`, not an event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "engine/delivery/bounce_class.h"
#include "engine/delivery/event_log.h"
#include "engine/runtime/component.h"
#include "engine/shard_context.h"
#include "engine/suppression/suppression_store.h"

namespace ringmta {

struct SuppressionStats {
  uint64_t refused = 0;     // RCPTs and injected recipients refused
  uint64_t dropped = 0;     // recipients finalized as suppressed at dispatch
  uint64_t added = 0;       // entries made on their own (bounces, complaints), committed
  uint64_t add_failures = 0;  // ... whose commit failed (the store is full, say)
  uint64_t lookups = 0;
};

class Suppression : public Component {
 public:
  Suppression(const ShardContext& ctx, SuppressionStore& store, EventLog& events);

  // rcpt_refusal: the reply for RCPT TO <rcpt> when an entry for every
  // tenant suppresses it and the mode is refuse; "" otherwise.
  std::string rcpt_refusal(std::string_view rcpt);
  // refusal_reason: the same for HTTP injection, without the reply code.
  std::string refusal_reason(std::string_view rcpt, std::string_view tenant);
  // check: the entry that suppresses rcpt for mail of tenant, or null. The
  // pointer is valid until the next call.
  const SuppressionEntry* check(std::string_view rcpt, std::string_view tenant);
  // on_bounce: a recipient's final bounce; adds it when its class is one of
  // suppression.auto_classes (and auto is on).
  // A hard bounce says the address is gone whoever sends to it: the entry
  // is for every tenant.
  void on_bounce(std::string_view queue_id, std::string_view rcpt, std::string_view campaign, BounceClass c,
                 int code, std::string_view status, std::string_view text);
  // add: an entry made on its own (a complaint, a returned DSN), unless one
  // is there or on its way; "suppression_added" is logged once it is
  // committed. False when it was there already.
  bool add(SuppressionEntry e, std::string_view campaign);
  void count_dropped() { ++_stats.dropped; }

  SuppressionStore& store() { return _store; }
  SuppressionStore::Reader& reader() { return *_reader; }
  const SuppressionStats& stats() const { return _stats; }

  // poll: the events of entries the writer has committed since.
  void poll() override;
  int64_t wait_bound_us(int64_t /*now_ms*/) const override { return _pending.empty() ? -1 : 2000; }
  bool drained() const override { return _pending.empty(); }

 private:
  struct Pending {
    uint64_t ticket;
    SuppressionEntry entry;
    std::string campaign;
  };
  const ShardContext& _ctx;
  SuppressionStore& _store;
  EventLog& _events;
  std::unique_ptr<SuppressionStore::Reader> _reader;
  SuppressionEntry _found;  // check()'s answer
  SuppressionStats _stats;
  std::vector<Pending> _pending;                    // submitted, not yet committed
  absl::flat_hash_set<std::string> _pending_keys;   // their keys: one entry, one event
};

}  // namespace ringmta
