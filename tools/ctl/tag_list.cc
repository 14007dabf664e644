// tools/ctl/tag_list.cc — RFC 6376 3.2 tag-lists (tag_list.h).
#include "tools/ctl/tag_list.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

// FWS: spaces, tabs, and the CRLF of a folded line (a TXT record holds
// none, but the grammar allows it).
bool fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && fws(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && fws(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool tag_name(std::string_view s) {
  if (s.empty() || !alpha(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!alpha(c) && !digit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

// tag_value: VALCHARs (%x21-3A / %x3C-7E) with whitespace only between them.
bool tag_value(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!fws(c) && (u < 0x21 || u > 0x7e || c == ';')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<TagList> parse_tag_list(std::string_view text) {
  TagList tags;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find(';', pos), text.size());
    const std::string_view spec = trim(text.substr(pos, end - pos));
    const bool last = end == text.size();
    pos = end + 1;
    if (spec.empty()) {
      // Allowed only as the end: "a=1;" or an empty list.
      if (last || trim(text.substr(pos)).empty()) {
        break;
      }
      return absl::InvalidArgumentError("an empty tag between two ';'");
    }
    const size_t eq = spec.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", av(spec), "' is not tag=value"));
    }
    const std::string_view name = trim(spec.substr(0, eq));
    const std::string_view value = trim(spec.substr(eq + 1));
    if (!tag_name(name)) {
      return absl::InvalidArgumentError(absl::StrCat("'", av(name), "' is not a tag name"));
    }
    if (!tag_value(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the value of ", av(name), "= holds a character that is not printable ASCII"));
    }
    if (find_tag(tags, name) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("the tag ", av(name), "= appears twice (RFC 6376 3.2: the record is invalid)"));
    }
    tags.push_back(Tag{std::string(name), std::string(value)});
    if (last) {
      break;
    }
  }
  return tags;
}

const Tag* find_tag(const TagList& tags, std::string_view name) {
  for (const Tag& t : tags) {
    if (t.name == name) {
      return &t;
    }
  }
  return nullptr;
}

}  // namespace ringmta::ctl
