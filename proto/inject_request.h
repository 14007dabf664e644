// proto/inject_request.h — the body of POST /api/v1/inject, parsed and
// checked: what to send, to whom, with which substitutions.
//
//   absl::StatusOr<InjectRequest> r = parse_inject_request(http_body);
//   if (!r.ok()) { /* 400, r.status().message() */ }
//   // r->recipients go on; r->failed_recipients are the fail_count.
//
// The JSON (one of raw "content" or the "content" object):
//   {"envelope_sender": "bounces@news.example.com",
//    "content": "From: ...\r\nSubject: Hello {{name}}\r\n\r\nHi {{name}}\r\n",
//    "content": {"from": "News <news@example.com>", "subject": "...",
//                "text_body": "...", "html_body": "...",
//                "headers": {"X-Foo": "bar"}, "reply_to": "..."},
//    "recipients": [{"email": "a@example.net", "substitutions": {"name": "Ann"}}],
//    "substitutions": {"code": "default"},
//    "campaign_id": "optional"}
//
// Parsed with simdjson's On-Demand API: it points at the byte where it
// stopped, which the error names, and it is 1.6x (10,000 recipients) to
// 2.3x (100) nlohmann-json's speed filling the same struct
// (bench/inject_parse_benchmark; much of the time is the struct's own
// strings and maps, and the address checks). On-Demand is compiled into
// this file for the build's target: without -march it is simdjson's
// portable kernel, not its SIMD ones. simdjson is why this is a library of
// its own (inject_dep): the rest of proto/ is std and abseil only.
//
// Errors are InvalidArgument and name the field and the byte offset:
//   malformed JSON at byte 57: ...
//   "recipients[3].email" must be a string (at byte 210)
// A stage-1 error (invalid UTF-8, an unclosed string) is found by
// simdjson's whole-document pass, which gives no offset: those say so.
//
// What is checked here and what is left to others:
// - unknown keys are refused (typo protection: "recipient" for
//   "recipients" must not send nothing), except kIgnoredKeys, annotations
//   that SparkPost-shaped clients send and we have no use for;
// - a duplicate key is refused (which one would win is a guess);
// - a recipient whose email is not an address is no error: it goes to
//   failed_recipients with the reason, so the caller reports a fail_count;
// - substitution values are strings, or numbers rendered as their JSON
//   text ("code": 42 renders "42");
// - CR/LF in a value that lands in a header is refused by template.h's
//   render(), per recipient: only the template knows where a value lands;
// - header names and values of the content object are checked by
//   mime_build.h, which builds from them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/message_parts.h"
#include "proto/template.h"

namespace ringmta::proto {

// Keys accepted anywhere an object is and ignored (their values are
// skipped, not checked).
inline constexpr std::string_view kIgnoredKeys[] = {"description", "metadata"};

struct InjectLimits {
  size_t max_recipients = 100000;
  size_t max_substitutions = 256;          // keys per substitutions object
  size_t max_value_size = 64 * 1024;       // octets per substitution value
  size_t max_content_size = 20 * 1024 * 1024;  // raw content, or each body
};

struct InjectRecipient {
  std::string email;  // address_text() form: the domain lower-cased
  Substitutions substitutions;
};

struct FailedRecipient {
  size_t index = 0;  // in the request's "recipients" array
  std::string email;
  std::string reason;
};

struct InjectRequest {
  std::string envelope_sender;  // "" is the null sender (<>)
  // The raw message (a template, TemplateKind::kRawMessage), or its parts.
  std::variant<std::string, MessageParts> content;
  std::vector<InjectRecipient> recipients;  // the valid ones, in order
  std::vector<FailedRecipient> failed_recipients;
  Substitutions substitutions;  // global: a recipient's own value wins
  std::optional<std::string> campaign_id;
  // needs_smtputf8: the sender or a recipient has a non-ASCII address
  // (RFC 6531), so relaying needs a peer that offers SMTPUTF8.
  bool needs_smtputf8 = false;
};

// parse_inject_request parses and checks `body` (see above). It copies
// the body once, into simdjson's padded buffer.
absl::StatusOr<InjectRequest> parse_inject_request(std::string_view body,
                                                   const InjectLimits& limits = {});

// check_email checks one address as inject takes it ("user@domain", no
// angle brackets, no source route), UTF-8 allowed. On success it sets
// *stored to the address_text() form and *utf8 when it has non-ASCII
// octets; else InvalidArgument says why ("not an address", "too long").
absl::Status check_email(std::string_view email, std::string* stored, bool* utf8);

}  // namespace ringmta::proto
