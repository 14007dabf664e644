// tools/ctl/dns_lookup.h — the DNS questions the checks ask, behind an
// interface: ringmta-ctl answers them with c-ares (cares_dns.h), the unit
// tests and fuzz harnesses with a table, so that the SPF evaluator and the
// record checks are tested without a DNS server.
//
//   DnsResult r = dns.query("_dmarc.example.com", RrType::kTxt);
//   if (r.status == DnsStatus::kOk) { for (const std::string& txt : r.records) ... }
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringmta::ctl {

enum class RrType { kA, kAaaa, kMx, kTxt, kPtr };

enum class DnsStatus {
  kOk,        // an answer with at least one record of the type asked
  kNxDomain,  // the name does not exist
  kNoData,    // the name exists, but has no record of that type
  kTimeout,   // no answer in time (every try)
  kError,     // SERVFAIL, REFUSED, a malformed answer, a socket error
};

struct DnsResult {
  DnsStatus status = DnsStatus::kNoData;
  // records: TXT: each record's strings concatenated (RFC 6376 3.6.2.2,
  // RFC 7208 3.3); A/AAAA: addresses as text; MX: the exchanges' names (a
  // null MX "." left out); PTR: names. Names carry no trailing dot.
  std::vector<std::string> records;
  std::string error;  // for kTimeout and kError: what went wrong, for a person

  // missing: the name or the record does not exist (a "void lookup" for
  // RFC 7208 4.6.4).
  bool missing() const { return status == DnsStatus::kNxDomain || status == DnsStatus::kNoData; }
  // failed: the question got no usable answer; nothing is known.
  bool failed() const { return status == DnsStatus::kTimeout || status == DnsStatus::kError; }
};

class DnsLookup {
 public:
  virtual ~DnsLookup() = default;
  // query asks for the records of `type` at `name` (no search list).
  virtual DnsResult query(std::string_view name, RrType type) = 0;
};

// rr_type_name: "A", "AAAA", "MX", "TXT", "PTR".
inline const char* rr_type_name(RrType t) {
  switch (t) {
    case RrType::kA:
      return "A";
    case RrType::kAaaa:
      return "AAAA";
    case RrType::kMx:
      return "MX";
    case RrType::kTxt:
      return "TXT";
    case RrType::kPtr:
      return "PTR";
  }
  return "?";
}

}  // namespace ringmta::ctl
