// tools/ctl/spf_macro.cc — SPF macro expansion (spf_macro.h).
#include "tools/ctl/spf_macro.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

// value_of: a macro letter's value, or false when a DNS check cannot know
// it: s and l (the sender's address), p (a validated PTR name: deprecated,
// and a lookup of its own).
bool value_of(char letter, const SpfIdentity& id, std::string_view current, std::string* out) {
  switch (absl::ascii_tolower(static_cast<unsigned char>(letter))) {
    case 'd':
      *out = std::string(current);
      return true;
    case 'o':
      *out = id.domain;
      return true;
    case 'i':
      *out = id.ip.dotted();
      return true;
    case 'v':
      *out = id.ip.v6 ? "ip6" : "in-addr";
      return true;
    case 'h':
      *out = id.helo;
      return !id.helo.empty();
    default:
      return false;
  }
}

// transform: RFC 7208 7.3: split on the delimiters, reverse with 'r', keep
// the rightmost `keep` parts, join with '.'.
std::string transform(const std::string& value, int keep, bool reverse, std::string_view delimiters) {
  std::vector<std::string> parts = absl::StrSplit(value, absl::ByAnyChar(av(delimiters)));
  if (reverse) {
    std::reverse(parts.begin(), parts.end());
  }
  if (keep > 0 && static_cast<size_t>(keep) < parts.size()) {
    parts.erase(parts.begin(), parts.end() - keep);
  }
  return absl::StrJoin(parts, ".");
}

}  // namespace

SpfExpansion expand_domain_spec(std::string_view spec, const SpfIdentity& id, std::string_view current_domain) {
  SpfExpansion e;
  std::string out;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      out += spec[i];
      continue;
    }
    if (i + 1 >= spec.size()) {
      return {SpfExpansion::kInvalid, "", "a '%' at the end"};
    }
    const char c = spec[++i];
    if (c == '%' || c == '_' || c == '-') {
      out += c == '%' ? "%" : c == '_' ? " " : "%20";
      continue;
    }
    const size_t close = spec.find('}', i);
    if (c != '{' || close == std::string_view::npos || close == i + 1) {
      return {SpfExpansion::kInvalid, "", "a '%' that starts no macro"};
    }
    const std::string_view body = spec.substr(i + 1, close - i - 1);
    const std::string_view macro = spec.substr(i - 1, close - i + 2);
    i = close;
    size_t j = 1;
    int keep = 0;
    while (j < body.size() && absl::ascii_isdigit(static_cast<unsigned char>(body[j])) && keep < 1000) {
      keep = keep * 10 + (body[j++] - '0');
    }
    if (j > 1 && keep == 0) {
      return {SpfExpansion::kInvalid, "", absl::StrCat(av(macro), ": a part count of 0 (RFC 7208 7.3)")};
    }
    const bool reverse = j < body.size() && (body[j] == 'r' || body[j] == 'R');
    j += reverse ? 1 : 0;
    const std::string_view delimiters = body.size() > j ? body.substr(j) : ".";
    std::string value;
    if (!value_of(body[0], id, current_domain, &value)) {
      e.kind = SpfExpansion::kUnknown;
      e.why = std::string(macro);
      continue;  // keep reading: a later invalid macro still makes it a permerror
    }
    out += transform(value, keep, reverse, delimiters);
  }
  if (e.kind == SpfExpansion::kUnknown) {
    return e;
  }
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  // RFC 7208 7.3: a name over 253 octets loses labels on the left.
  while (out.size() > 253 && out.find('.') != std::string::npos) {
    out.erase(0, out.find('.') + 1);
  }
  e.name = absl::AsciiStrToLower(out);
  return e;
}

}  // namespace ringmta::ctl
