// proto/dkim_canon.h — DKIM canonicalization (RFC 6376 3.4) and the header
// fields a signature covers (5.4.2). Pure functions over the message as
// ringmta stores it (CRLF line ends: the session normalizes bare CR and
// LF), no crypto: proto/dkim_sign.h hashes what these produce.
//
//   std::vector<HeaderField> f = split_header_fields(trace);   // then the body's
//   canon_header(Canon::kRelaxed, f[0], &hash_input);
//   canon_body(Canon::kRelaxed, body, [&](std::string_view piece) { sha.update(piece); });
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"

namespace ringmta::proto {

enum class Canon { kSimple, kRelaxed };

// HeaderField is one field of a header section: its name as written and
// the whole field, continuation lines and the final CRLF included.
struct HeaderField {
  std::string_view name;
  std::string_view raw;
};

// split_header_fields reads the fields at the start of `text` up to the
// empty line that ends the header section (or up to a line that is not a
// field, or the end). *body_start, when given, receives the offset of the
// body: after the empty line, or where the fields stopped.
std::vector<HeaderField> split_header_fields(std::string_view text, size_t* body_start = nullptr);

// canon_header appends `f` canonicalized, with its CRLF. relaxed: name in
// lower case, unfolded, runs of WSP as one SP, no WSP around the colon or at
// the end of the value. simple: the field unchanged.
void canon_header(Canon c, const HeaderField& f, std::string* out);

// canon_body hands the canonical body to `sink` in pieces, in order (most
// of them views into `body`). simple: the body with its trailing empty lines
// removed and a CRLF at the end (an empty body is one CRLF). relaxed: also
// WSP runs as one SP and no WSP at line ends; an empty body stays empty.
// A last line without CRLF gets one.
void canon_body(Canon c, std::string_view body, absl::FunctionRef<void(std::string_view)> sink);

// select_signed_headers picks, for each name in `names` (a name may repeat),
// the field it signs: RFC 6376 5.4.2 takes instances from the bottom of
// the header up, and a name with no instance left signs nothing (a null
// string: that is what over-signing relies on). Returns one entry per name,
// nullptr where nothing is left.
std::vector<const HeaderField*> select_signed_headers(const std::vector<HeaderField>& fields,
                                                      const std::vector<std::string>& names);

// from_domain: the lower-cased domain of the first address in the first
// From: field of fields ("" when there is none). Enough of RFC 5322's
// address syntax to find it: "<addr>" wins over bare text, comments and
// quoted strings are skipped.
std::string from_domain(const std::vector<HeaderField>& fields);

}  // namespace ringmta::proto
