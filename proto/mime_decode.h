// proto/mime_decode.h — a body part's Content-Transfer-Encoding undone
// (RFC 2045 6): base64 and quoted-printable, read as leniently as mail
// from strangers needs and never past a bound.
//
//   MimeHeaders h = read_mime_headers(part.headers);   // mime_read.h
//   std::string storage;
//   std::string_view text = decode_body(h.transfer_encoding, part.body, 1 << 20, &storage);
//
// 7bit, 8bit and binary bodies come back as they are, without a copy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringmta::proto {

// decode_body returns `body` decoded as Content-Transfer-Encoding
// `transfer_encoding` (the raw field value) names it: base64 and
// quoted-printable are decoded into `*storage` and cut to at most `limit`
// octets; 7bit, 8bit, binary and names we do not know are returned as
// they are (a view of `body`).
std::string_view decode_body(std::string_view transfer_encoding, std::string_view body, size_t limit,
                             std::string* storage);

// decode_base64_mime decodes base64 as RFC 2045 6.8 reads it: octets
// outside the alphabet (line ends) are ignored, '=' ends the data. At most
// `limit` octets are written to `*out` (replaced).
void decode_base64_mime(std::string_view in, size_t limit, std::string* out);

// decode_quoted_printable decodes RFC 2045 6.7: =XX octets, soft line
// breaks, trailing white space dropped; a '=' not followed by two hex
// digits is kept as it is. Line ends become CRLF. At most `limit` octets.
void decode_quoted_printable(std::string_view in, size_t limit, std::string* out);

}  // namespace ringmta::proto
