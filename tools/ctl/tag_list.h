// tools/ctl/tag_list.h — the tag=value lists of DKIM key records (RFC 6376
// 3.2) and DMARC records (RFC 7489 6.4, the same syntax).
//
//   absl::StatusOr<TagList> t = parse_tag_list("v=DKIM1; k=rsa; p=MIIB...");
//   (*t)[0] == Tag{"v", "DKIM1"}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::ctl {

struct Tag {
  std::string name;
  std::string value;  // without the whitespace around it; inner whitespace kept
  bool operator==(const Tag&) const = default;
};
using TagList = std::vector<Tag>;

// parse_tag_list reads `tag = value; ...` with optional whitespace (FWS)
// around names, '=' and values, and an optional ';' at the end. Errors (the
// whole list is then invalid, RFC 6376 3.2): a tag name that is not ALPHA
// *(ALPHA / DIGIT / "_"), a missing '=', a value with a character outside
// printable ASCII, an empty tag between two ';', a duplicate tag name.
absl::StatusOr<TagList> parse_tag_list(std::string_view text);

// find_tag: the tag named `name` (names are case-sensitive), or null.
const Tag* find_tag(const TagList& tags, std::string_view name);

}  // namespace ringmta::ctl
