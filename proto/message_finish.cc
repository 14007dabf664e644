// proto/message_finish.cc — the end-of-DATA steps for injected and picked
// up messages (message_finish.h).
#include "proto/message_finish.h"

#include <string>

#include "proto/header_scan.h"

namespace ringmta::proto {
namespace {

bool has_8bit(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return true;
  }
  return false;
}

}  // namespace

bool has_long_line(std::string_view body, size_t max_line) {
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find("\r\n", start);
    if (end == std::string_view::npos) end = body.size();
    if (end - start > max_line) return true;
    start = end + 2;
  }
  return false;
}

absl::Status finish_message(const FinishOptions& o, CompletedMessage* m) {
  HeaderScan scan = scan_headers(m->body);
  if (o.require_list_unsubscribe &&
      (!scan.has_list_unsubscribe || scan.list_unsubscribe_post != "List-Unsubscribe=One-Click")) {
    return absl::FailedPreconditionError(
        "policy.require_list_unsubscribe: the message needs List-Unsubscribe and "
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)");
  }
  strip_ranges(scan.control, &m->body);
  m->envelope.pool = std::move(scan.pool);
  m->envelope.tenant = std::move(scan.tenant);
  m->envelope.campaign = std::move(scan.campaign);
  TraceInfo info;
  info.helo = m->envelope.helo;
  info.client_addr = o.client_addr;
  info.local_origin = o.local_origin;
  info.hostname = o.hostname;
  info.protocol = o.protocol;
  info.queue_id = m->queue_id;
  if (m->envelope.recipients.size() == 1) {
    info.recipient = m->envelope.recipients.front();
  }
  info.now = o.now;
  append_trace_headers(info, scan, &m->trace_headers);
  if (m->trace_headers.size() + m->body.size() > o.max_message_size) {
    return absl::OutOfRangeError("message size exceeds the limit of " + std::to_string(o.max_message_size) +
                                 " bytes (--max-message-size)");
  }
  m->has_long_lines = has_long_line(m->body, o.max_text_line);
  m->envelope.body = has_8bit(m->body) ? BodyType::k8BitMime : BodyType::kUnspecified;
  return absl::OkStatus();
}

}  // namespace ringmta::proto
