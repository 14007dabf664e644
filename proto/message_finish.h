// proto/message_finish.h — what the end of SMTP DATA does to a message
// (server_session.cc), for the messages that do not come over SMTP: the
// HTTP injection's (inject_message.h) and the maildrop pickup's
// (engine/inbound/pickup.h). The one-click unsubscribe policy, the control
// headers taken out into the envelope, the trace headers in, the size
// bound, and the long-line and 8-bit flags.
//
//   FinishOptions o{.hostname = "mx.example.com", .protocol = "HTTP", ...};
//   absl::Status s = finish_message(o, &m);   // m.queue_id, envelope, body set
//   if (!s.ok()) refuse(s.message());         // names the limit or policy
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/server_session.h"

namespace ringmta::proto {

struct FinishOptions {
  std::string_view hostname;      // ours, for Received: and Message-ID:
  std::string_view client_addr;   // "" for a local file (then local_origin)
  std::string_view local_origin;  // "sendmail uid=1000", for Received:
  std::string_view protocol;      // "HTTP", "local"
  absl::Time now;
  uint64_t max_message_size = 50ull << 20;
  size_t max_text_line = 1000;  // longer lines are folded on delivery
  bool require_list_unsubscribe = false;
};

// finish_message applies the above to m (its body CRLF lines, not
// dot-stuffed). An error says why the message is refused: the policy
// (FailedPrecondition) or the size (OutOfRange).
absl::Status finish_message(const FinishOptions& o, CompletedMessage* m);

// has_long_line: some CRLF line of body is longer than max_line octets.
bool has_long_line(std::string_view body, size_t max_line);

}  // namespace ringmta::proto
