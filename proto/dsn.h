// proto/dsn.h — delivery status notifications (RFC 3464, RFC 3462/6522).
//
// build_dsn() writes a whole notification message (header section and
// body, CRLF line endings), ready to spool as a new message from the null
// sender to the original sender. Usage:
//
//   if (!dsn_allowed(envelope.sender)) return;   // never bounce to <>
//   DsnInput in{.reporting_mta = "mx.example", .original_queue_id = id, ...};
//   in.recipients.push_back({.address = "a@b.example", .status = "5.1.1",
//                            .action = "failed", .remote_mta = "dns; mx.b.example",
//                            .diagnostic = "smtp; 550 5.1.1 no such user"});
//   std::string content = build_dsn(in);
//   // envelope: MAIL FROM:<> RCPT TO:<original sender>; the content is 8-bit
//   // (BODY=8BITMIME) exactly when dsn_has_8bit(content).
//
// The message is multipart/report; report-type=delivery-status with three
// parts: a text/plain explanation, the message/delivery-status fields, and
// the original header section as text/rfc822-headers (at most
// kMaxReturnedHeaders octets, cut at a line end; never the body, so a
// bounce cannot be used to reflect content at a third party). Values that
// came from a remote server are cleaned of control characters, and every
// line is at most 998 octets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace ringmta::proto {

inline constexpr size_t kMaxReturnedHeaders = 64 * 1024;

struct DsnRecipient {
  std::string address;     // "local@domain" as in the envelope
  std::string status;      // RFC 3463 code: "5.1.1"
  std::string action;      // "failed" | "delayed" (RFC 3464 2.3.3)
  std::string remote_mta;  // "dns; mx.example.com", or "" (no remote answer)
  std::string diagnostic;  // "smtp; 550 5.1.1 no such user", or ""
  // The sender's bounce class ("InvalidRecipient"), or "": written as the
  // extension field X-Ringmta-Bounce-Class (RFC 3464 2.3) and a line of
  // the text part.
  std::string bounce_class;
};

struct DsnInput {
  std::string reporting_mta;      // our host name
  std::string original_queue_id;
  std::string original_sender;    // the DSN's recipient; must not be ""
  absl::Time arrival;
  absl::Time now;
  std::vector<DsnRecipient> recipients;
  std::string_view original_content;  // the stored message; only its headers are used
  std::string boundary_seed;          // anything unique to this DSN (queue id + attempt)
};

// dsn_allowed is false for the null sender: a DSN is never sent to <>
// (RFC 5321 4.5.5, 6.1), which is what stops bounce loops.
bool dsn_allowed(std::string_view original_sender);

// build_dsn returns the notification's content (headers + body).
std::string build_dsn(const DsnInput& input);

// dsn_has_8bit is true when `content` holds an octet above 127 (a UTF-8
// address or original header), so it must be sent with BODY=8BITMIME.
bool dsn_has_8bit(std::string_view content);

// original_header_section returns the header fields of `content`, each
// with its line end: up to the empty line (not included) or to the first
// line that is neither a field nor a continuation (RFC 5322 2.1), cut at a
// line end to at most `limit` octets.
std::string_view original_header_section(std::string_view content, size_t limit);

}  // namespace ringmta::proto
