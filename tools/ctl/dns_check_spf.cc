// tools/ctl/dns_check_spf.cc — the SPF part of the dns check (dns_checks.h):
// one line for the record itself (one v=spf1 record, valid, within the
// lookup limit, ending in -all or ~all), then one per sending address
// (check_host gives pass), each WRONG one with the record that fixes it.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/dns_checks.h"
#include "tools/ctl/spf_eval.h"
#include "tools/ctl/spf_policy.h"
#include "tools/ctl/zone_text.h"

namespace ringmta::ctl {
namespace {

std::string source_text(const EgressAddress& s) {
  return s.name == "--ip" ? absl::StrCat(s.address.to_string(), " (--ip)")
                          : absl::StrCat(s.address.to_string(), " (source ", s.name, ")");
}

// ending_problem: what is wrong with how the policy ends, or "".
std::string ending_problem(const SpfPolicy& p) {
  if (!p.ending) {
    return absl::StrCat("no 'all' ends the policy (in ", p.ending_domain,
                        "): senders it does not list get neutral, which tells receivers nothing; end it in -all "
                        "(or ~all while you test)");
  }
  switch (*p.ending) {
    case SpfQualifier::kPass:
      return absl::StrCat("'+all' in ", p.ending_domain,
                          " authorizes every host on the internet to send as this domain; end it in -all (or ~all)");
    case SpfQualifier::kNeutral:
      return absl::StrCat("'?all' in ", p.ending_domain,
                          " says nothing about senders it does not list (neutral); end it in -all (or ~all)");
    default:
      return "";
  }
}

// record_line: the check of the record itself. A suggested record adds
// `needed` (the sources the policy does not list); `placeholder` when no
// sending address is known at all.
CheckLine record_line(const DnsCheckInput& in, const std::vector<IpAddress>& needed, bool placeholder, DnsLookup& dns) {
  CheckLine line{.what = absl::StrCat("SPF ", in.domain)};
  SpfFetch f = fetch_spf(in.domain, dns);
  auto publish = [&](const std::vector<std::string>& records, bool soft) {
    return placeholder ? zone_txt_line(in.domain, "v=spf1 ip4:ADDRESS ... -all")
                       : zone_txt_line(in.domain, suggest_spf(records, needed, soft));
  };
  switch (f.kind) {
    case SpfFetch::kDnsFailed:
      line.status = CheckStatus::kUnknown;
      line.detail = absl::StrCat("TXT lookup: ", f.error);
      return line;
    case SpfFetch::kNone:
      line.status = CheckStatus::kMissing;
      line.detail = "no v=spf1 TXT record: receivers cannot tell your mail from forgeries";
      line.publish = publish({}, false);
      return line;
    case SpfFetch::kMultiple:
      line.status = CheckStatus::kWrong;
      line.detail = absl::StrCat(f.texts.size(), " v=spf1 records (\"", absl::StrJoin(f.texts, "\", \""),
                                 "\"): receivers get permerror (RFC 7208 4.5); merge them into one");
      line.publish = publish(f.texts, false);
      return line;
    case SpfFetch::kBadSyntax:
      line.status = CheckStatus::kWrong;
      line.detail = absl::StrCat("\"", f.texts[0], "\": ", f.error, ": receivers get permerror");
      line.publish = publish(f.texts, false);
      return line;
    case SpfFetch::kFound:
      break;
  }
  const SpfPolicy p = analyze_spf(in.domain, f.record, dns);
  std::vector<std::string> problems = p.problems;
  if (p.dns_terms > kSpfMaxDnsTerms) {
    problems.push_back(absl::StrCat("more than ", kSpfMaxDnsTerms,
                                    " DNS-querying terms (include, a, mx, ptr, exists, redirect, counted through "
                                    "every include): receivers stop with permerror (RFC 7208 4.6.4); replace "
                                    "includes with the ip4:/ip6: they list"));
  }
  if (std::string e = p.ending_known ? ending_problem(p) : ""; !e.empty()) {
    problems.push_back(std::move(e));
  }
  const bool soft = p.ending == SpfQualifier::kSoftFail;
  if (!problems.empty()) {
    line.status = CheckStatus::kWrong;
    line.detail = absl::StrCat("\"", f.texts[0], "\": ", absl::StrJoin(problems, "; "));
    // Over the limit, the same terms again would be no fix: the text says what to do.
    if (p.dns_terms <= kSpfMaxDnsTerms) {
      line.publish = publish(f.texts, soft);
    }
    return line;
  }
  if (!p.unresolved.empty()) {
    line.status = CheckStatus::kUnknown;
    line.detail = absl::StrCat("\"", f.texts[0], "\": ", p.dns_terms,
                               " DNS-querying terms counted, but not followed: ", absl::StrJoin(p.unresolved, ", "));
    return line;
  }
  line.status = CheckStatus::kOk;
  line.detail = absl::StrCat("\"", f.texts[0], "\": one record, ", p.dns_terms, " of ", kSpfMaxDnsTerms,
                             " DNS-querying terms, ends in '", soft ? "~all" : "-all", "'",
                             soft ? " (softfail: make it -all once every sender is listed)" : "");
  return line;
}

}  // namespace

void check_spf(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report) {
  // The sources are evaluated first: the record's line suggests a record
  // that adds the ones the policy does not list.
  std::vector<CheckLine> lines;
  std::vector<IpAddress> needed;
  for (const EgressAddress& s : in.sources) {
    SpfVerdict v = check_host({.ip = s.address, .domain = in.domain, .helo = s.ehlo}, dns);
    CheckLine line{.what = absl::StrCat("SPF ", in.domain, " for ", source_text(s))};
    const std::string result = absl::StrCat(spf_result_name(v.result), ": ", v.reason);
    const bool listed = v.certain && v.result == SpfResult::kPass && !v.by_all;
    if (!listed && std::find(needed.begin(), needed.end(), s.address) == needed.end()) {
      needed.push_back(s.address);
    }
    if (!v.certain) {
      line.status = CheckStatus::kUnknown;
      line.detail =
          absl::StrCat(result, "; not evaluated, and could change that: ", absl::StrJoin(v.not_evaluated, ", "));
    } else if (v.result == SpfResult::kPass) {
      line.status = CheckStatus::kOk;
      line.detail = absl::StrCat("authorized (", result, ")");
    } else if (v.result == SpfResult::kTempError) {
      line.status = CheckStatus::kUnknown;
      line.detail = result;
    } else {
      line.status = CheckStatus::kWrong;
      line.detail = absl::StrCat("not authorized (", result, "): receivers may reject or junk its mail");
    }
    lines.push_back(std::move(line));
  }
  CheckLine record = record_line(in, needed, in.sources.empty(), dns);
  if (record.status == CheckStatus::kOk && !needed.empty()) {
    // A sound record that leaves sources out: their lines get the record
    // that adds them.
    SpfFetch f = fetch_spf(in.domain, dns);
    const SpfPolicy p = analyze_spf(in.domain, f.record, dns);
    const std::string fixed =
        zone_txt_line(in.domain, suggest_spf(f.texts, needed, p.ending == SpfQualifier::kSoftFail));
    for (CheckLine& l : lines) {
      if (l.status == CheckStatus::kWrong) {
        l.publish = fixed;
      }
    }
  }
  report.add(record);
  if (in.sources.empty()) {
    report.add(
        {.status = CheckStatus::kSkip,
         .what = absl::StrCat("SPF ", in.domain, " senders"),
         .detail = absl::StrCat("no egress sources", in.config_file.empty() ? "" : absl::StrCat(" in ", in.config_file),
                                " and no --ip: which addresses send is not known (give --ip ADDR)")});
    return;
  }
  for (const CheckLine& l : lines) {
    report.add(l);
  }
}

}  // namespace ringmta::ctl
