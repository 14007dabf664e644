// tools/ctl/dns_checks.h — the checks of `ringmta-ctl dns check`, one file
// each, over DnsLookup and plain inputs (no config types), so that the unit
// tests run them against a table of records:
//
//   DnsCheckInput in{.domain = "example.com", .sources = {...}};
//   CheckReport report(stdout);
//   check_spf(in, dns, report);     // one line for the record, one per sending address
#pragma once

#include <string>
#include <vector>

#include "tools/ctl/check_report.h"
#include "tools/ctl/dns_lookup.h"
#include "tools/ctl/egress_sources.h"

namespace ringmta::ctl {

struct DkimKeyToCheck {
  std::string selector;
  std::string key_type;    // "rsa" or "ed25519"; empty with public_key (a bare --selector)
  std::string public_key;  // base64 p= the record must hold; empty: only that a key record is there
  std::string key_file;    // where the key is, for messages
};

struct DnsCheckInput {
  std::string domain;                  // lower case, no trailing dot
  std::vector<DkimKeyToCheck> dkim;    // the [[dkim]] entries of the domain, and --selector
  std::vector<EgressAddress> sources;  // the egress sources, and --ip
  std::string config_file;             // for messages; empty without --config
};

// check_dkim: each key's record at SELECTOR._domainkey.DOMAIN.
void check_dkim(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report);
// check_spf: the SPF record of the domain, and whether it authorizes each source.
void check_spf(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report);
// check_dmarc: the policy record at _dmarc.DOMAIN.
void check_dmarc(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report);
// check_fcrdns: each source's PTR name, that it resolves back, and that it
// is the source's EHLO name.
void check_fcrdns(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report);

}  // namespace ringmta::ctl
