// proto/inject_message.h — an injection request (inject_request.h) turned
// into the messages to spool: substitutions rendered, MIME built from the
// parts, the same checks a message gets at the end of SMTP DATA (size,
// one-click unsubscribe policy, control headers taken out), and the trace
// headers added.
//
//   InjectBuild b = build_inject_messages(request, options);
//   for (auto& m : b.messages) store(std::move(m));
//   b.failed: recipients that got no message, with the reason
//
// One message per recipient when the request has substitutions (each gets
// its own values), else one message for every recipient (cut into
// messages of at most max_recipients, the SMTP limit), the way an ESP's
// injection API behaves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "proto/inject_request.h"
#include "proto/server_session.h"

namespace ringmta::proto {

struct InjectBuildOptions {
  std::string_view hostname;     // ours, for Received: and Message-ID:
  std::string_view client_addr;  // the HTTP client's address
  absl::Time now;
  uint64_t max_message_size = 50ull << 20;
  size_t max_recipients = 1000;  // per message
  size_t max_text_line = 1000;   // longer lines are folded on delivery
  bool require_list_unsubscribe = false;
  std::function<std::string()> new_queue_id;
};

struct InjectBuild {
  std::vector<std::unique_ptr<CompletedMessage>> messages;
  // counts[i]: how many of the request's recipients messages[i] stands
  // for (a recipient given twice is delivered once, and counted twice).
  std::vector<size_t> counts;
  std::vector<FailedRecipient> failed;  // request.failed_recipients, plus these
};

InjectBuild build_inject_messages(const InjectRequest& request, const InjectBuildOptions& options);

}  // namespace ringmta::proto
