// tools/ctl/dns_check_dkim.cc — the DKIM part of the dns check
// (dns_checks.h): the key record each [[dkim]] entry needs, compared with
// the public half of its private key.
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/dkim_record.h"
#include "tools/ctl/dns_checks.h"
#include "tools/ctl/zone_text.h"

namespace ringmta::ctl {
namespace {

CheckLine check_key(const DnsCheckInput& in, const DkimKeyToCheck& k, DnsLookup& dns) {
  const std::string name = absl::StrCat(k.selector, "._domainkey.", in.domain);
  CheckLine line{.what = absl::StrCat("DKIM ", name)};
  const bool known = !k.public_key.empty();
  if (known) {
    line.publish = zone_txt_line(name, dkim_record_text(k.key_type, k.public_key));
  }
  const std::string expected_text =
      known ? absl::StrCat("the ", k.key_type, " key of ", k.key_file) : std::string("a DKIM key record");
  auto wrong = [&](std::string why) {
    line.status = CheckStatus::kWrong;
    line.detail = std::move(why);
    return line;
  };
  DnsResult r = dns.query(name, RrType::kTxt);
  if (r.failed()) {
    line.status = CheckStatus::kUnknown;
    line.detail = absl::StrCat("TXT lookup: ", r.error);
    line.publish.clear();
    return line;
  }
  if (r.records.empty()) {
    line.status = CheckStatus::kMissing;
    line.detail = absl::StrCat("no TXT record; receivers cannot verify signatures by ", k.selector,
                               known ? "" : " (publish the record `ringmta-ctl dkim keygen` printed for it)");
    return line;
  }
  if (r.records.size() > 1) {
    return wrong(absl::StrCat(r.records.size(),
                              " TXT records; a selector has one (RFC 6376 3.6.2.2: with more, "
                              "verification is undefined): delete all but ",
                              expected_text));
  }
  absl::StatusOr<DkimKeyRecord> rec = parse_dkim_key_record(r.records[0]);
  if (!rec.ok()) {
    return wrong(std::string(rec.status().message()));
  }
  if (rec->public_key.empty()) {
    return wrong("p= is empty: the key is revoked, and every signature by it fails");
  }
  if (known && rec->key_type != k.key_type) {
    return wrong(absl::StrCat("k=", rec->key_type, " but ", k.key_file, " is an ", k.key_type, " key"));
  }
  if (!known && rec->key_type != "rsa" && rec->key_type != "ed25519") {
    return wrong(absl::StrCat("k=", rec->key_type, ": receivers know rsa and ed25519"));
  }
  if (!accepts_sha256(*rec)) {
    return wrong("h= does not list sha256, which ringmta signs with");
  }
  if (!serves_email(*rec)) {
    return wrong("s= lists neither email nor *: the key may not sign mail");
  }
  if (known && rec->public_key != k.public_key) {
    return wrong(absl::StrCat("p= is another key, not the public half of ", k.key_file,
                              ": every signature ringmta makes with it fails"));
  }
  std::string raw;
  if (!known && (!absl::Base64Unescape(rec->public_key, &raw) || (rec->key_type == "ed25519" && raw.size() != 32))) {
    return wrong(absl::StrCat("p= is not a ", rec->key_type, " public key in base64"));
  }
  line.publish.clear();
  line.status = CheckStatus::kOk;
  line.detail = known ? absl::StrCat("publishes the ", k.key_type, " key of ", k.key_file)
                      : absl::StrCat("a k=", rec->key_type, " key record (no key to compare it with: give --config)");
  for (const std::string& flag : rec->flags) {
    if (flag == "y") {
      absl::StrAppend(&line.detail, " (t=y: receivers treat signatures as a test; drop it once mail verifies)");
    }
  }
  return line;
}

}  // namespace

void check_dkim(const DnsCheckInput& in, DnsLookup& dns, CheckReport& report) {
  if (in.dkim.empty()) {
    report.add({.status = CheckStatus::kSkip,
                .what = absl::StrCat("DKIM ", in.domain),
                .detail = absl::StrCat(in.config_file.empty() ? "no --config and no --selector"
                                                              : absl::StrCat("no [[dkim]] for ", in.domain, " in ",
                                                                             in.config_file, " and no --selector"),
                                       ": nothing to check (a new key: ringmta-ctl dkim keygen --domain ", in.domain,
                                       " --selector s1 --out DIR)")});
    return;
  }
  for (const DkimKeyToCheck& k : in.dkim) {
    report.add(check_key(in, k, dns));
  }
}

}  // namespace ringmta::ctl
