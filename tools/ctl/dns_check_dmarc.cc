// tools/ctl/dns_check_dmarc.cc — the DMARC part of the dns check
// (dns_checks.h): one policy record at _dmarc.DOMAIN with a valid p=.
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/dmarc_record.h"
#include "tools/ctl/dns_checks.h"
#include "tools/ctl/zone_text.h"

namespace ringmta::ctl {

void check_dmarc(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report) {
  const std::string name = absl::StrCat("_dmarc.", in.domain);
  CheckLine line{.what = absl::StrCat("DMARC ", name)};
  // What to start from: quarantine, with aggregate reports to the domain.
  const std::string suggested =
      zone_txt_line(name, absl::StrCat("v=DMARC1; p=quarantine; rua=mailto:dmarc@", in.domain));
  DnsResult r = dns.query(name, RrType::kTxt);
  std::vector<std::string> records;
  for (const std::string& txt : r.records) {
    if (is_dmarc_record(txt)) {
      records.push_back(txt);
    }
  }
  if (r.failed()) {
    line.status = CheckStatus::kUnknown;
    line.detail = absl::StrCat("TXT lookup: ", r.error);
  } else if (records.empty()) {
    line.status = CheckStatus::kMissing;
    line.detail =
        absl::StrCat("no v=DMARC1 record",
                     r.records.empty() ? "" : absl::StrCat(" (", r.records.size(), " other TXT records there)"),
                     ": receivers apply no policy to mail that fails SPF and DKIM");
    line.publish = suggested;
  } else if (records.size() > 1) {
    line.status = CheckStatus::kWrong;
    line.detail = absl::StrCat(records.size(),
                               " v=DMARC1 records: receivers apply none of them (RFC 7489 6.6.3); "
                               "keep one");
    line.publish = suggested;
  } else if (absl::StatusOr<DmarcRecord> d = parse_dmarc_record(records[0]); !d.ok()) {
    line.status = CheckStatus::kWrong;
    line.detail = absl::StrCat("\"", records[0], "\": ", d.status().message());
    line.publish = suggested;
  } else {
    line.status = CheckStatus::kOk;
    line.detail = absl::StrCat("p=", d->policy);
    if (d->policy == "none") {
      absl::StrAppend(&line.detail,
                      " only monitors: receivers act on nothing; once the reports show that your mail "
                      "passes, move to p=quarantine, then p=reject");
    }
    if (d->percent < 100) {
      absl::StrAppend(&line.detail, "; pct=", d->percent, ": the policy applies to that share of failing mail");
    }
    if (d->rua.empty()) {
      absl::StrAppend(&line.detail, "; no rua=: you get no aggregate reports");
    }
  }
  report.add(line);
}

}  // namespace ringmta::ctl
