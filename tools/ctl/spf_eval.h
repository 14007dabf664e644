// tools/ctl/spf_eval.h — SPF evaluation (RFC 7208 4, 5, 7): does a domain's
// SPF policy authorize an address. DNS is asked through DnsLookup, so the
// unit tests answer from a table. Whether the policy as a whole is sound is
// spf_policy.h.
//
//   SpfVerdict v = check_host({.ip = *IpAddress::parse("192.0.2.10"), .domain = "example.com"}, dns);
//   v.result == SpfResult::kPass; v.reason == "'ip4:192.0.2.0/24' in example.com"
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/ctl/dns_lookup.h"
#include "tools/ctl/ip_address.h"
#include "tools/ctl/spf.h"

namespace ringmta::ctl {

// RFC 7208 4.6.4: at most 10 terms that query DNS, 10 names per mx or ptr,
// 2 lookups that find nothing ("void lookups").
inline constexpr int kSpfMaxDnsTerms = 10;
inline constexpr int kSpfMaxNames = 10;
inline constexpr int kSpfMaxVoidLookups = 2;

enum class SpfResult { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };

// spf_result_name: RFC 7208 2.6's names, "pass", "softfail", "permerror", ...
const char* spf_result_name(SpfResult r);
// spf_result_of: what a matching term with this qualifier gives.
SpfResult spf_result_of(SpfQualifier q);

// SpfIdentity: what check_host(ip, domain, sender) knows. The check is for
// mail from the domain itself; the sender's local part is not known, so a
// term whose macro needs it (%{s}, %{l}) is not evaluated.
struct SpfIdentity {
  IpAddress ip;
  std::string domain;  // %{o}, and the first %{d}
  std::string helo;    // %{h}; empty: unknown
};

struct SpfVerdict {
  SpfResult result = SpfResult::kNone;
  std::string reason;  // the term that decided and where, or what failed
  int dns_terms = 0;   // DNS-querying terms evaluated
  // not_evaluated: terms skipped because a macro needs what is not known.
  std::vector<std::string> not_evaluated;
  // certain: false when a skipped term could have changed the result.
  bool certain = true;
  // by_all: the term that decided was an "all" (here or in an included
  // record): a pass that lists nobody.
  bool by_all = false;
};

// check_host evaluates the SPF policy of id.domain for id.ip.
SpfVerdict check_host(const SpfIdentity& id, DnsLookup& dns);

// SpfFetch: the SPF record at a name, as RFC 7208 4.4-4.5 select it.
struct SpfFetch {
  enum Kind { kFound, kNone, kMultiple, kBadSyntax, kDnsFailed };
  Kind kind = kNone;
  SpfRecord record;                // kFound
  std::vector<std::string> texts;  // every v=spf1 record there
  std::string error;               // kBadSyntax: the parse error; kDnsFailed: the DNS error
};
SpfFetch fetch_spf(std::string_view domain, DnsLookup& dns);

}  // namespace ringmta::ctl
