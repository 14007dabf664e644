// engine/suppression/feedback.h — what comes back after delivery: mail to
// the feedback domains (feedback.domains) is read, not relayed. A DSN
// (RFC 3464) becomes an "async_bounce" event per failed recipient (and a
// suppression entry when its class is one of suppression.auto_classes), or
// an "async_delayed" one; an ARF report (RFC 5965) becomes a "complaint"
// and suppresses its recipient. Anything else is counted and dropped:
// never relayed, never answered (no backscatter).
//
//   Feedback fb(ctx, suppression, events);
//   if (fb.is_feedback(rcpt)) { ... collect it ... }
//   std::string what = fb.process(message, feedback_rcpts);   // once per message
//
// Who a report is about. With feedback.verp, outgoing mail went out from
// PREFIX+TOKEN@VERP_DOMAIN (proto/verp.h), so a report names its message
// and recipient by the address it came back to — or by the returned
// message's Return-Path: (an ARF report goes to the FBL address, with the
// original message inside), or an X-Ringmta-Ref: holding such an address
// (read when present; ringmta does not add one itself). Then a report counts only if
// a token verifies: anyone can send a DSN, and a forged one must not
// suppress a good address. Without VERP the report's own fields are
// trusted (Final-Recipient, Original-Rcpt-To, the returned To:): README
// "Suppression" says why turning VERP on is better.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "engine/delivery/event_log.h"
#include "engine/shard_context.h"
#include "engine/suppression/suppression.h"
#include "proto/feedback_report.h"
#include "proto/server_session.h"
#include "proto/verp.h"

namespace ringmta {

struct FeedbackStats {
  uint64_t bounces = 0;       // failed recipients of DSNs
  uint64_t delays = 0;        // delayed ones
  uint64_t complaints = 0;    // ARF reports
  uint64_t unattributed = 0;  // reports no VERP token vouched for (feedback.verp), dropped
  uint64_t dropped = 0;       // messages that were no report, dropped
};

class Feedback {
 public:
  Feedback(const ShardContext& ctx, Suppression& suppression, EventLog& events);

  // is_feedback: rcpt ("local@domain") is at one of the feedback domains.
  bool is_feedback(std::string_view rcpt) const;
  // process reads m, a message to feedback addresses (rcpts, those of its
  // recipients), and acts on it; returns what it was, one line for the
  // recipients' "feedback" events.
  std::string process(const proto::CompletedMessage& m, const std::vector<std::string_view>& rcpts);
  const FeedbackStats& stats() const { return _stats; }

 private:
  std::optional<proto::VerpMatch> attribute(const proto::FeedbackReport& r,
                                            const std::vector<std::string_view>& rcpts) const;
  void on_recipient(const proto::ReportedRecipient& rr, std::string_view address, std::string_view queue_id,
                    const proto::FeedbackReport& r);
  void on_complaint(const proto::FeedbackReport& r, std::string_view address, std::string_view queue_id);

  const ShardContext& _ctx;
  Suppression& _suppression;
  EventLog& _events;
  absl::flat_hash_set<std::string> _domains;
  FeedbackStats _stats;
};

}  // namespace ringmta
