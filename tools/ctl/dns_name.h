// tools/ctl/dns_name.h — the domain names and selectors the commands take
// on their command line, checked (proto::valid_dns_name) before they go
// into a file name or a DNS question, and made canonical.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "engine/runtime/absl_compat.h"
#include "proto/address.h"

namespace ringmta::ctl {

using proto::valid_dns_name;  // the names the commands take are checked by it

// normal_domain: lower case, without a trailing dot.
inline std::string normal_domain(std::string_view s) {
  if (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  return absl::AsciiStrToLower(av(s));
}

}  // namespace ringmta::ctl
