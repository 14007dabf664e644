// tools/ctl/dns_name.h — the domain names and selectors the commands take
// on their command line, checked before they go into a file name or a
// DNS question.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {

// valid_dns_name: dot-separated labels of letters, digits, '-' and '_'
// (a selector may hold '_' and '.'), 1..63 octets each, 253 in all; a
// trailing dot is not part of it.
inline bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
    if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

// normal_domain: lower case, without a trailing dot.
inline std::string normal_domain(std::string_view s) {
  if (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  return absl::AsciiStrToLower(av(s));
}

}  // namespace ringmta::ctl
