// proto/header_scan.h — what the session needs to know of a message's
// header section, and the trace headers it prepends.
//
//   HeaderScan h = scan_headers(body);   // body is CRLF-normalized
//   if (h.received > kMaxHops) { /* 554 5.4.6 */ }
//   std::string trace = build_trace_headers(info, h);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace ringmta::proto {

// RFC 5321 6.3 asks for loop detection by counting Received: fields; 100 is
// the threshold it names as typical.
inline constexpr size_t kMaxHops = 100;

// Control headers: X-Ringmta-Pool:, X-Ringmta-Tenant:, X-Ringmta-Campaign:
// say which egress pool to send from and whom the message's events are
// for. They are for ringmta, not the recipient: the session takes them out
// of the content (strip_ranges) and keeps their values in the envelope.
// A value is unfolded and trimmed, at most kControlValueMax octets of
// printable ASCII; any other value is dropped (the field still goes).
inline constexpr size_t kControlValueMax = 255;

struct HeaderScan {
  size_t received = 0;  // Received: fields
  bool has_date = false;
  bool has_message_id = false;
  // RFC 8058 one-click unsubscribe: a List-Unsubscribe field, and the
  // value of List-Unsubscribe-Post (unfolded, trimmed; "" when absent).
  bool has_list_unsubscribe = false;
  std::string list_unsubscribe_post;
  std::string pool;      // the control headers' values ("" when absent)
  std::string tenant;
  std::string campaign;
  // [begin, end) of each control header field in the body, CRLF and
  // continuation lines included, in order.
  std::vector<std::pair<size_t, size_t>> control;
};

// header_field_name returns the name of a header field line ("Name:" or
// the obsolete "Name  :"), or an empty view when the line is not a field.
std::string_view header_field_name(std::string_view line);

// scan_headers reads header fields up to the first empty line, or up to the
// first line that is neither a field nor a continuation (then the message
// has no header section past that point: RFC 5322 2.1).
HeaderScan scan_headers(std::string_view body);

// strip_ranges removes the ordered, disjoint byte ranges from body.
void strip_ranges(const std::vector<std::pair<size_t, size_t>>& ranges, std::string* body);

struct TraceInfo {
  std::string_view helo;
  std::string_view client_addr;
  std::string_view hostname;
  // "SMTP", "ESMTP", "UTF8SMTP", with S (TLS) and A (AUTH) variants such
  // as "ESMTPSA" (RFC 3848, 6531).
  std::string_view protocol;
  std::string_view queue_id;
  std::string_view recipient;  // empty unless exactly one recipient
  absl::Time now;
  // "(using TLSv1.3 with cipher X)" when both are set, as Postfix writes
  // it; left out unless each is a short token.
  std::string_view tls_version;
  std::string_view tls_cipher;
  // "(Authenticated sender: user)" when set; ( ) and \ are quoted.
  std::string_view auth_user;
  // A message from a local file (the maildrop pickup) has no client:
  // client_addr is empty, and this says where it came from, e.g.
  // "sendmail uid=1000" (Postfix writes "from userid 1000"); quoted like
  // auth_user.
  std::string_view local_origin;
};

// format_rfc5322_date formats `t` in UTC: "Sun, 22 Nov 2026 10:00:00 +0000".
std::string format_rfc5322_date(absl::Time t);

// append_trace_headers appends Received: (folded at its clauses) and, when
// the scan did not find them, Date: and Message-ID: <queue_id@hostname>.
void append_trace_headers(const TraceInfo& info, const HeaderScan& scan,
                          std::string* out);

}  // namespace ringmta::proto
