// proto/client_content.h — the wire form of a message's content, as the
// SMTP client sends it after DATA's 354 or in a BDAT chunk.
//
//   uint64_t n = wire_content_size(trace, body, 998);        // SIZE=, BDAT n
//   append_wire_content(&out, trace, body, 998, /*dot_stuff=*/true);
//
// The content is trace_headers followed by body. On the wire:
// - every line ends in CRLF: a bare CR or bare LF becomes CRLF, so nothing
//   we relay can be read by the next hop as a different end of data (SMTP
//   smuggling), and a last line without a line end gets one;
// - a line longer than max_line octets (CRLF excluded; RFC 5322 2.1.1 says
//   998) is folded by inserting CRLF and one space. In the header section
//   that is a header continuation; in the body it adds a space (a DKIM body
//   hash over the original breaks, so sign after this or keep lines short).
//   The fold moves back (up to 3 octets) so as not to split a UTF-8
//   sequence;
// - with dot_stuff (DATA), a line starting with "." gets one more, and that
//   dot counts toward max_line, so no line on the wire passes max_line+CRLF.
// wire_content_size counts without dot-stuffing (BDAT sends no stuffing;
// for SIZE= it is the message size, RFC 1870).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::proto {

// kMaxWireLine: RFC 5322 2.1.1's limit, what the client folds at.
inline constexpr size_t kMaxWireLine = 998;

// wire_content_size returns the octets append_wire_content would append
// without dot-stuffing.
uint64_t wire_content_size(std::string_view trace_headers, std::string_view body,
                           size_t max_line);

// append_wire_content appends the wire form of trace_headers + body.
void append_wire_content(std::string* out, std::string_view trace_headers,
                         std::string_view body, size_t max_line, bool dot_stuff);

}  // namespace ringmta::proto
