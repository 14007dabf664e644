// tools/ctl/dns_check.cc — `ringmta-ctl dns check`: gathers what to check
// (the [[dkim]] keys and egress sources of --config, --selector, --ip),
// asks DNS through c-ares, and prints one line per check (check_report.h).
// Exit 0 only when every check passed.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/config/dkim_file.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/cares_dns.h"
#include "tools/ctl/commands.h"
#include "tools/ctl/dns_checks.h"
#include "tools/ctl/dns_name.h"

namespace ringmta::ctl {
namespace {

// dkim_keys: the [[dkim]] entries whose d= is the domain, then each
// --selector not among them (checked for a record that parses).
absl::Status dkim_keys(const Flags& f, DnsCheckInput* in) {
  static const std::vector<DkimEntry> kNone;
  if (!in->config_file.empty()) {
    absl::StatusOr<std::shared_ptr<const DkimSigners>> signers = load_dkim(in->config_file);
    if (!signers.ok()) {
      return signers.status();
    }
    for (const DkimEntry& e : *signers ? (*signers)->entries() : kNone) {
      if (e.signer.domain != in->domain) {
        continue;
      }
      const bool rsa = e.signer.key->algorithm() == proto::DkimAlgorithm::kRsaSha256;
      in->dkim.push_back({e.signer.selector, rsa ? "rsa" : "ed25519", e.signer.key->public_key_base64(), e.key_file});
    }
  }
  for (const std::string& s : f.all("selector")) {
    if (!valid_dns_name(s)) {
      return absl::InvalidArgumentError(absl::StrCat("--selector '", s, "' is not a selector (e.g. s2026)"));
    }
    const bool known =
        std::any_of(in->dkim.begin(), in->dkim.end(), [&](const DkimKeyToCheck& k) { return k.selector == s; });
    if (!known) {
      in->dkim.push_back({.selector = s});
    }
  }
  return absl::OkStatus();
}

// sources: the egress sources of --config, then each --ip not among them.
absl::Status sources(const Flags& f, DnsCheckInput* in) {
  if (!in->config_file.empty()) {
    absl::StatusOr<std::vector<EgressAddress>> s = read_egress_sources(in->config_file);
    if (!s.ok()) {
      return s.status();
    }
    in->sources = std::move(*s);
  }
  for (const std::string& text : f.all("ip")) {
    std::optional<IpAddress> ip = IpAddress::parse(text);
    if (!ip) {
      return absl::InvalidArgumentError(absl::StrCat("--ip '", text, "' is not an IPv4 or IPv6 address"));
    }
    const bool known =
        std::any_of(in->sources.begin(), in->sources.end(), [&](const EgressAddress& e) { return e.address == *ip; });
    if (!known) {
      in->sources.push_back({.name = "--ip", .address = *ip});
    }
  }
  return absl::OkStatus();
}

int run(const Command& c, const Flags& f) {
  DnsCheckInput in;
  in.domain = normal_domain(f.get("domain"));
  if (!valid_dns_name(in.domain)) {
    return usage_error(c, absl::StrCat("--domain '", f.get("domain"), "' is not a domain name (e.g. example.com)"));
  }
  in.config_file = f.get("config");
  if (absl::Status st = dkim_keys(f, &in); !st.ok()) {
    return usage_error(c, sv(st.message()));
  }
  if (absl::Status st = sources(f, &in); !st.ok()) {
    return usage_error(c, sv(st.message()));
  }
  absl::StatusOr<std::unique_ptr<CaresDns>> dns = CaresDns::create(f.get("resolver"));
  if (!dns.ok()) {
    return usage_error(c, sv(dns.status().message()));
  }
  CheckReport report(stdout);
  check_dkim(in, **dns, report);
  check_spf(in, **dns, report);
  check_dmarc(in, **dns, report);
  check_fcrdns(in, **dns, report);
  report.print_summary(in.domain);
  return report.passed() ? kExitOk : kExitFailed;
}

}  // namespace

const Command& dns_check_command() {
  static const Command kCommand{
      .group = "dns",
      .name = "check",
      .summary = "check a domain's DKIM, SPF, DMARC and reverse DNS records against ringmta.toml",
      .description =
          "Prints one line per check: OK, MISSING or WRONG (then the record to publish),\n"
          "UNKNOWN (DNS gave no answer, or an SPF term needs the sender's address) or\n"
          "SKIP (nothing to check), then what was checked and what was found:\n"
          "  DKIM    each [[dkim]] key of the domain in --config: the TXT record at\n"
          "          SELECTOR._domainkey.DOMAIN holds its public key (with --selector and\n"
          "          no key: that a key record is there and parses)\n"
          "  SPF     one v=spf1 record, at most 10 DNS-querying terms, ending in -all or\n"
          "          ~all; and it authorizes each egress source address (or --ip)\n"
          "  DMARC   a v=DMARC1 record at _dmarc.DOMAIN with p=none|quarantine|reject\n"
          "  FCrDNS  each source address has a PTR name that resolves back to it and is\n"
          "          the source's ehlo\n"
          "Exit status: 0 every check passed, 1 some did not, 2 usage or config error.\n\n"
          "Example: ringmta-ctl dns check --domain example.com --config /etc/ringmta/ringmta.toml",
      .flags = {{.name = "domain", .value = "D", .help = "the domain to check, e.g. example.com", .required = true},
                {.name = "config",
                 .value = "FILE",
                 .help = "ringmta.toml: its [[dkim]] keys and [egress.source] addresses"},
                {.name = "selector",
                 .value = "S",
                 .help = "also check that a DKIM key record exists at S._domainkey.D",
                 .repeatable = true},
                {.name = "ip",
                 .value = "ADDR",
                 .help = "also check this sending address (SPF, reverse DNS)",
                 .repeatable = true},
                {.name = "resolver",
                 .value = "IP:PORT",
                 .help = "DNS server to ask (default: those of /etc/resolv.conf); 2 tries of 2 s per question"}},
      .run = run,
  };
  return kCommand;
}

}  // namespace ringmta::ctl
