// tools/ctl/spf_policy.h — an SPF policy seen whole, every include and
// redirect followed: what a receiver may have to walk for an address it
// lists nowhere. Says whether the policy stays within RFC 7208's lookup
// limit, whether every name it leads to has one good record, and how it
// ends (-all, ~all, ?all, +all or no "all").
//
//   SpfPolicy p = analyze_spf("example.com", *parse_spf(txt), dns);
//   p.dns_terms <= kSpfMaxDnsTerms && p.ending == SpfQualifier::kFail
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/ctl/dns_lookup.h"
#include "tools/ctl/spf.h"
#include "tools/ctl/spf_eval.h"

namespace ringmta::ctl {

struct SpfPolicy {
  int dns_terms = 0;  // stops counting once over kSpfMaxDnsTerms
  // problems: included or redirected-to names without one good SPF record
  // (each a permerror for any receiver that gets there).
  std::vector<std::string> problems;
  // unresolved: includes and redirects not followed, so that the count and
  // the ending may be incomplete: a DNS failure, or a macro in the name.
  std::vector<std::string> unresolved;
  // ending: the qualifier of the "all" that ends the policy (the record's,
  // or that of the record its redirect= leads to); nullopt: no "all" and no
  // redirect, so an unlisted address gets neutral.
  std::optional<SpfQualifier> ending;
  std::string ending_domain;  // where that "all" (or its absence) is
  bool ending_known = true;   // false: the redirect chain could not be followed
};
SpfPolicy analyze_spf(std::string_view domain, const SpfRecord& record, DnsLookup& dns);

}  // namespace ringmta::ctl
