// proto/mime_build.h — an RFC 5322 / MIME message built from the parts of
// an injected message (inject_request.h's MessageParts, after template.h's
// substitution), one per recipient.
//
//   MimeOptions o{.to = "a@example.net", .date = absl::Now(),
//                 .message_id_token = unique, .boundary_token = random};
//   absl::StatusOr<std::string> msg = build_mime_message(parts, o);
//
// The result is what the spool stores: CRLF line ends, no dot stuffing.
// Header fields, in order: From, Reply-To (when given), To (when given),
// Subject, Date, Message-ID <token@from-domain>, MIME-Version: 1.0, the
// caller's extra headers, then the Content-* fields. The body is
// text/plain, text/html, or both as multipart/alternative (text first: a
// reader shows the last part it can, RFC 2046 5.1.4), charset=utf-8.
//
// Encodings: 7bit when a body is ASCII (no NUL) with lines of at most 998
// octets, else quoted-printable (RFC 2045 6.7, soft line breaks keep lines
// at 76). A non-ASCII Subject or display name becomes RFC 2047 "B"
// encoded-words; so does an over-long Subject, or one holding "=?" that a
// reader would try to decode.
//
// Refused (InvalidArgument): CR or LF in any header value (header
// injection: template.h refuses such substituted values too, this catches
// literal ones); an extra header whose name is not RFC 5322 ftext, whose
// value is not printable ASCII, or that would override a field built here
// (From, To, Subject, Date, Message-ID, MIME-Version, Content-*, Reply-To
// when reply_to is set) or a ringmta control header (X-Ringmta-*: the
// inject request carries those in JSON); a From or Reply-To that is not
// "Name <addr>" or "addr".
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/message_parts.h"

namespace ringmta::proto {

struct MimeOptions {
  std::string_view to;  // the To: value; "" leaves To: out
  absl::Time date;      // Date:
  // message_id_token: unique per message, 1..64 of [A-Za-z0-9._-]; the
  // Message-ID is <token@domain-of-From>.
  std::string_view message_id_token;
  // boundary_token: random, 1..60 of [A-Za-z0-9._-], used only when both
  // bodies are given. The boundary is "=_" + token ("=_" cannot occur in
  // quoted-printable); should it occur in a 7bit body anyway, ".1", ".2"
  // ... is appended until it does not.
  std::string_view boundary_token;
};

// build_mime_message builds the message; see above for what it refuses.
absl::StatusOr<std::string> build_mime_message(const MessageParts& parts, const MimeOptions& options);

// quoted_printable encodes `body` (CRLF line ends; a bare CR or LF is made
// CRLF first) per RFC 2045 6.7 with lines of at most 76 octets.
std::string quoted_printable(std::string_view body);

// needs_quoted_printable: `body` is not ASCII, has a NUL, or a line longer
// than 998 octets.
bool needs_quoted_printable(std::string_view body);

// encoded_words returns `text` (UTF-8) as RFC 2047 "=?utf-8?B?...?="
// words of at most 75 octets, split between characters and joined by
// CRLF SP (a header continuation).
std::string encoded_words(std::string_view text);

}  // namespace ringmta::proto
