// bench/smtpblast_message.h — the content smtpblast sends, generated once
// per size: headers plus a body of printable CRLF lines (under 998 octets),
// so the server's parser does real work but the client does none per
// message beyond patching a Message-ID counter into its copy of the headers.
//
//   MessageTemplate t = make_message(1024, "a@x.test", "b@y.test");
//   std::string headers = t.headers;          // one copy per connection
//   patch_message_id(&headers, t.id_offset, 42);
//   // send headers + t.body
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::blast {

// kBodyTail is the last line of every body. It ends the wire content (BDAT)
// or comes just before the final "." (DATA), so the client can tell the
// write that finishes a message's data without counting octets.
inline constexpr std::string_view kBodyTail = "-- end of smtpblast message --\r\n";

// kIdDigits: the decimal counter in the Message-ID is this wide.
inline constexpr size_t kIdDigits = 12;

struct MessageTemplate {
  std::string headers;   // ends with the blank line
  std::string body;      // ends with kBodyTail
  size_t id_offset = 0;  // where the Message-ID counter starts in headers
};

// make_message builds content of about `size` octets (never less than the
// headers and the tail line).
MessageTemplate make_message(size_t size, std::string_view from, std::string_view to);

// patch_message_id writes n as kIdDigits decimal digits at `offset`.
void patch_message_id(std::string* headers, size_t offset, uint64_t n);

}  // namespace ringmta::blast
