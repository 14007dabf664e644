// proto/mime_read.h — reading the MIME structure of a message that came
// from a stranger (RFC 2045, RFC 2046): the header fields of an entity,
// Content-Type's media type and parameters, and the parts of a multipart
// body (mime_decode.h decodes their transfer encodings).
//
//   MimeEntity top = split_entity(message);
//   MimeHeaders h = read_mime_headers(top.headers);
//   if (media_type(h.content_type) == "multipart/mixed") {
//     std::string boundary = media_param(h.content_type, "boundary", kMaxBoundary);
//     std::vector<std::string_view> parts;
//     MultipartSplit s = split_multipart(top.body, boundary, 32, &parts);
//     // s.truncated: there were more than 32 parts
//   }
//
// mime_build.h writes messages; this reads what comes back (bounces and
// complaints, feedback_report.h). Every function is linear in its input
// and bounded in what it returns, whatever the input holds: bare LF line
// ends, binary octets, unterminated quotes and comments, no boundaries.
// Views point into the caller's text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::proto {

// RFC 2046 5.1.1 allows 70 characters; some generators write longer ones,
// so we accept up to this many before calling a boundary unusable.
inline constexpr size_t kMaxBoundary = 200;

// MimeEntity is a message or a body part cut at its header section's end.
struct MimeEntity {
  std::string_view headers;  // the fields, each with its line end
  std::string_view body;     // after the empty line; "" when there is none
};

// split_entity ends the header section at the first empty line, or at the
// first line that is neither a field nor a continuation (RFC 5322 2.1:
// such a line is already body, as for a part with no header section).
// CRLF and bare LF line ends are both read.
MimeEntity split_entity(std::string_view entity);

// HeaderField: one field of a header section, as written.
struct HeaderField {
  std::string_view name;
  // From after the ':' to the field's end, continuation lines included,
  // the last line end not: still folded (unfold_value() unfolds it).
  std::string_view value;
};

// next_header_field reads the field at the front of `*section` and
// advances past it; false when no field is left. Lines that are neither a
// field nor a continuation of one are skipped.
bool next_header_field(std::string_view* section, HeaderField* field);

// next_field_block reads the lines up to the next empty (or white space
// only) line into `*block` and advances past them, skipping empty lines
// before: RFC 3464's groups of fields. false when nothing is left.
bool next_field_block(std::string_view* text, std::string_view* block);

// MimeHeaders: the Content-* fields of an entity (the first of each), raw.
struct MimeHeaders {
  std::string_view content_type;
  std::string_view transfer_encoding;
};
MimeHeaders read_mime_headers(std::string_view section);

// unfold_value returns a field value unfolded (RFC 5322 2.2.3) with each
// run of white space made one space, control octets dropped, trimmed, and
// cut to at most `limit` octets (never inside a UTF-8 sequence).
// `*truncated` (when given) says whether anything but space was cut.
std::string unfold_value(std::string_view raw, size_t limit, bool* truncated = nullptr);

// media_type returns Content-Type's "type/subtype" lower-cased, or "" when
// the value has none (RFC 2045 5.2 then means text/plain).
std::string media_type(std::string_view content_type);

// mime_token returns the first token of a structured value, lower-cased,
// past comments and folding: Content-Transfer-Encoding's mechanism.
std::string mime_token(std::string_view value);

// media_param returns the value of parameter `name` (compared ignoring
// case; the first one given), unquoted, or "" when absent or longer than
// `limit`. Comments are skipped. RFC 2231 continuations (name*0=) are
// other names. An unquoted value runs to the next ';', space or comment:
// boundary=----=_Part_1 is common though '=' is not a token character.
std::string media_param(std::string_view content_type, std::string_view name, size_t limit);

struct MultipartSplit {
  bool closed = false;     // the close delimiter "--boundary--" was seen
  bool truncated = false;  // a part past max_parts began (it is not in parts)
};

// split_multipart appends to `parts` the body parts of a multipart body
// (RFC 2046 5.1.1): the text between delimiter lines "--boundary" (white
// space may follow), without the line end before the next delimiter; the
// preamble and the epilogue are left out. When the close delimiter is
// missing, the last part runs to the end of `body`.
MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts,
                               std::vector<std::string_view>* parts);

}  // namespace ringmta::proto
