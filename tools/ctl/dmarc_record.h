// tools/ctl/dmarc_record.h — DMARC policy records, the TXT record at
// _dmarc.DOMAIN (RFC 7489 6.3).
//
//   if (is_dmarc_record(txt)) {
//     absl::StatusOr<DmarcRecord> r = parse_dmarc_record(txt);   // r->policy == "quarantine"
//   }
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::ctl {

struct DmarcRecord {
  std::string policy;            // p=: "none", "quarantine" or "reject"
  std::string subdomain_policy;  // sp=, empty when absent (then p= applies)
  int percent = 100;             // pct=
  std::vector<std::string> rua;  // rua= report addresses, as written
};

// is_dmarc_record: the text starts with the tag v=DMARC1 (RFC 7489 6.6.3
// step 3: other TXT records at _dmarc are not DMARC's and are ignored).
bool is_dmarc_record(std::string_view txt);

// parse_dmarc_record reads a record for which is_dmarc_record holds. Errors
// name the tag: not a tag-list, no p=, p= or sp= not none|quarantine|reject,
// pct= not 0..100.
absl::StatusOr<DmarcRecord> parse_dmarc_record(std::string_view txt);

}  // namespace ringmta::ctl
