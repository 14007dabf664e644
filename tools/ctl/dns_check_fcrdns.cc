// tools/ctl/dns_check_fcrdns.cc — the reverse-DNS part of the dns check
// (dns_checks.h): forward-confirmed reverse DNS for each sending address.
// Many receivers refuse or junk mail from an address whose PTR name does
// not resolve back to it, and some compare that name with the EHLO.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/dns_checks.h"

namespace ringmta::ctl {
namespace {

std::string fqdn(std::string_view name) { return absl::StrCat(av(name), "."); }

CheckLine check_source(const EgressAddress& s, DnsLookup& dns) {
  const std::string ip = s.address.to_string();
  const std::string rev = s.address.reverse_name();
  CheckLine line{.what = s.name == "--ip" ? absl::StrCat("FCrDNS ", ip, " (--ip)")
                                          : absl::StrCat("FCrDNS ", ip, " (source ", s.name, ")")};
  const std::string want = s.ehlo.empty() ? "HOSTNAME" : s.ehlo;
  const RrType addr_type = s.address.v6 ? RrType::kAaaa : RrType::kA;
  DnsResult ptr = dns.query(rev, RrType::kPtr);
  if (ptr.failed()) {
    line.status = CheckStatus::kUnknown;
    line.detail = absl::StrCat("PTR lookup of ", rev, ": ", ptr.error);
    return line;
  }
  if (ptr.records.empty()) {
    line.status = CheckStatus::kMissing;
    line.detail = absl::StrCat("no PTR record at ", rev, " (ask whoever runs the address block for it)",
                               s.ehlo.empty() ? "; HOSTNAME is the name the source says in EHLO" : "");
    line.publish = absl::StrCat(fqdn(rev), " IN PTR ", fqdn(want));
    return line;
  }
  // The names that resolve back to the address (RFC 8601 2.7.3 "iprev").
  std::vector<std::string> confirmed, elsewhere;
  for (const std::string& name : ptr.records) {
    DnsResult a = dns.query(name, addr_type);
    if (a.failed()) {
      line.status = CheckStatus::kUnknown;
      line.detail = absl::StrCat("PTR ", name, ", but its ", rr_type_name(addr_type), " lookup: ", a.error);
      return line;
    }
    const bool back = std::any_of(a.records.begin(), a.records.end(), [&](const std::string& text) {
      std::optional<IpAddress> got = IpAddress::parse(text);
      return got && *got == s.address;
    });
    if (back) {
      confirmed.push_back(name);
    } else {
      elsewhere.push_back(absl::StrCat(name, a.records.empty()
                                                 ? absl::StrCat(" (no ", rr_type_name(addr_type), ")")
                                                 : absl::StrCat(" (", absl::StrJoin(a.records, ", "), ")")));
    }
  }
  if (confirmed.empty()) {
    line.status = CheckStatus::kWrong;
    line.detail = absl::StrCat("PTR ", absl::StrJoin(elsewhere, ", "), ": the name does not resolve back to ", ip);
    line.publish = absl::StrCat(fqdn(ptr.records[0]), " IN ", rr_type_name(addr_type), " ", ip);
    return line;
  }
  if (!s.ehlo.empty()) {
    const bool same = std::any_of(confirmed.begin(), confirmed.end(),
                                  [&](const std::string& n) { return absl::EqualsIgnoreCase(n, s.ehlo); });
    if (!same) {
      line.status = CheckStatus::kWrong;
      line.detail = absl::StrCat("PTR ", confirmed[0], " resolves back, but the source's ehlo is ", s.ehlo,
                                 " (receivers compare them): set ehlo = \"", confirmed[0], "\" in [egress.source.\"",
                                 s.name, "\"], or point the PTR at ", s.ehlo, " (which must resolve to ", ip, ")");
      line.publish = absl::StrCat(fqdn(rev), " IN PTR ", fqdn(s.ehlo));
      return line;
    }
  }
  line.status = CheckStatus::kOk;
  line.detail = absl::StrCat(
      "PTR ", confirmed[0], " resolves back to ", ip,
      s.ehlo.empty() ? " (no ehlo configured: make the EHLO name this one)" : ", and is the source's ehlo");
  return line;
}

}  // namespace

void check_fcrdns(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report) {
  if (in.sources.empty()) {
    report.add(
        {.status = CheckStatus::kSkip,
         .what = "FCrDNS",
         .detail = absl::StrCat("no egress sources", in.config_file.empty() ? "" : absl::StrCat(" in ", in.config_file),
                                " and no --ip: no sending address to check")});
    return;
  }
  for (const EgressAddress& s : in.sources) {
    report.add(check_source(s, dns));
  }
}

}  // namespace ringmta::ctl
