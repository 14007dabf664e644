// tools/ctl/spf.h — SPF records (RFC 7208): which TXT records are SPF's,
// the parse of one into its terms, and the record to suggest when one is
// wrong. Evaluation is spf_eval.h.
//
//   absl::StatusOr<SpfRecord> r = parse_spf("v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all");
//   r->terms[0].mechanism == SpfMechanism::kIp4, r->terms[2].qualifier == SpfQualifier::kFail
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/ctl/ip_address.h"

namespace ringmta::ctl {

enum class SpfQualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };
enum class SpfMechanism { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

struct SpfTerm {
  SpfQualifier qualifier = SpfQualifier::kPass;
  SpfMechanism mechanism = SpfMechanism::kAll;
  // domain: the domain-spec of include, a, mx, ptr, exists, as written
  // (macros unexpanded); empty for a, mx, ptr: the domain being checked.
  std::string domain;
  IpAddress network;  // ip4, ip6
  int cidr4 = 32;     // ip4, a, mx
  int cidr6 = 128;    // ip6, a, mx
  std::string text;   // the term as written, for messages

  // queries_dns: a term that counts toward RFC 7208 4.6.4's limit of 10.
  bool queries_dns() const {
    return mechanism == SpfMechanism::kInclude || mechanism == SpfMechanism::kA || mechanism == SpfMechanism::kMx ||
           mechanism == SpfMechanism::kPtr || mechanism == SpfMechanism::kExists;
  }
};

struct SpfRecord {
  std::vector<SpfTerm> terms;  // the mechanisms, in order
  std::string redirect;        // redirect= domain-spec, empty when absent
  std::string exp;             // exp= domain-spec, empty when absent
  // has_all: some term is "all" (then redirect= is ignored, RFC 7208 6.1).
  bool has_all() const;
};

// is_spf_record: the text starts with "v=spf1" followed by a space or its
// end, in any case (RFC 7208 4.5; "v=spf10" is not one).
bool is_spf_record(std::string_view txt);

// parse_spf reads one SPF record. Any syntax error is a PermError for a
// receiver (RFC 7208 4.6): an unknown mechanism, a bad address or CIDR
// length, a bad domain-spec or macro, a qualifier on a modifier, a second
// redirect= or exp=. The message names the term.
absl::StatusOr<SpfRecord> parse_spf(std::string_view txt);

// valid_domain_spec: RFC 7208 7.1's domain-spec: a macro-string whose
// macros are well formed (%{X...}, %%, %_, %-; X one of s l o d i p h v)
// and which ends in a top label (a letter among letters, digits and '-')
// or a macro.
bool valid_domain_spec(std::string_view spec);

// suggest_spf: a record to publish so that every address in `add` is
// authorized: the mechanisms of `records` (merged, when there are several)
// in their order without their "all" and without terms that do not parse,
// a redirect= turned into include: (an "all" would make it ignored), ip4:
// or ip6: for each address, then "~all" when `soft`, else "-all".
std::string suggest_spf(const std::vector<std::string>& records, const std::vector<IpAddress>& add, bool soft);

}  // namespace ringmta::ctl
