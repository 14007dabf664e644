// tools/ctl/dmarc_record.cc — DMARC policy records (dmarc_record.h).
#include "tools/ctl/dmarc_record.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/tag_list.h"

namespace ringmta::ctl {
namespace {

bool policy_word(std::string_view v) { return v == "none" || v == "quarantine" || v == "reject"; }

}  // namespace

bool is_dmarc_record(std::string_view txt) {
  absl::string_view t = absl::StripLeadingAsciiWhitespace(av(txt));
  if (!absl::ConsumePrefix(&t, "v")) {
    return false;
  }
  t = absl::StripLeadingAsciiWhitespace(t);
  if (!absl::ConsumePrefix(&t, "=")) {
    return false;
  }
  t = absl::StripLeadingAsciiWhitespace(t);
  // The value must be exactly DMARC1 (RFC 7489 6.3: "MUST match precisely").
  if (!absl::ConsumePrefix(&t, "DMARC1")) {
    return false;
  }
  t = absl::StripLeadingAsciiWhitespace(t);
  return t.empty() || t.front() == ';';
}

absl::StatusOr<DmarcRecord> parse_dmarc_record(std::string_view txt) {
  absl::StatusOr<TagList> tags = parse_tag_list(txt);
  if (!tags.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid DMARC record: ", tags.status().message()));
  }
  DmarcRecord r;
  const Tag* p = find_tag(*tags, "p");
  if (p == nullptr) {
    return absl::InvalidArgumentError("no p= tag (the policy: none, quarantine or reject)");
  }
  r.policy = absl::AsciiStrToLower(p->value);
  if (!policy_word(r.policy)) {
    return absl::InvalidArgumentError(absl::StrCat("p=", p->value, " is not none, quarantine or reject"));
  }
  if (const Tag* sp = find_tag(*tags, "sp"); sp != nullptr) {
    r.subdomain_policy = absl::AsciiStrToLower(sp->value);
    if (!policy_word(r.subdomain_policy)) {
      return absl::InvalidArgumentError(absl::StrCat("sp=", sp->value, " is not none, quarantine or reject"));
    }
  }
  if (const Tag* pct = find_tag(*tags, "pct"); pct != nullptr) {
    if (!absl::SimpleAtoi(av(pct->value), &r.percent) || r.percent < 0 || r.percent > 100) {
      return absl::InvalidArgumentError(absl::StrCat("pct=", pct->value, " is not a number from 0 to 100"));
    }
  }
  if (const Tag* rua = find_tag(*tags, "rua"); rua != nullptr) {
    for (absl::string_view u : absl::StrSplit(av(rua->value), ',')) {
      u = absl::StripAsciiWhitespace(u);
      if (!u.empty()) {
        r.rua.emplace_back(u);
      }
    }
  }
  return r;
}

}  // namespace ringmta::ctl
