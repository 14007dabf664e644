// proto/reply.h — SMTP reply formatting (RFC 5321 4.2, RFC 2034/3463).
//
//   append_reply(&out, "250 2.1.0 Ok");           // adds the CRLF
//   append_ehlo_reply(&out, "mx.example", 52428800);
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ringmta::proto {

// append_reply appends one reply line and its CRLF.
void append_reply(std::string* out, std::string_view line);

// append_pieces appends every piece. (absl::StrAppend takes absl::string_view,
// which Debian's abseil does not alias to std::string_view.)
void append_pieces(std::string* out, std::initializer_list<std::string_view> pieces);

// append_decimal appends `value` in decimal.
void append_decimal(std::string* out, uint64_t value);

// append_ehlo_reply appends the multi-line EHLO reply: the hostname, then the
// extensions in a fixed order. No enhanced codes here (RFC 2034 3).
void append_ehlo_reply(std::string* out, std::string_view hostname,
                       uint64_t max_message_size);

// printable_or_empty returns `text` when every octet is printable ASCII, so
// that client text echoed in a reply can never carry a CR, LF or control.
std::string_view printable_or_empty(std::string_view text);

}  // namespace ringmta::proto
