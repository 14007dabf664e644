// engine/config/validate.cc — checks across settings (validate.h).
#include <algorithm>

#include "engine/config/validate.h"

#include "absl/strings/str_cat.h"

#include <unistd.h>

namespace ringmta::config_internal {

absl::Status validate(Config& c) {
  if (c.listen.empty() && c.listen_tls.empty()) {
    return absl::InvalidArgumentError("--listen: at least one address is needed");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!c.listen_tls.empty() && c.tls_cert.empty()) {
    return absl::InvalidArgumentError("--listen-tls needs --tls-cert and --tls-key");
  }
  if (c.admin_tls && c.tls_cert.empty()) {
    return absl::InvalidArgumentError("--admin-tls true needs --tls-cert and --tls-key (the same certificate as SMTP)");
  }
  if (!c.auth_users.empty() && c.auth_require_tls && c.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--auth-users offers AUTH only under TLS: give --tls-cert and --tls-key too "
        "(or --auth-require-tls false behind a TLS-terminating proxy)");
  }
  for (const Cidr& n : c.relay_networks) {
    if (n.wide() && !c.allow_open_relay) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--relay-networks ", n.str(), " makes ringmta an open relay: every host in it may send mail through it "
          "to any domain. Name your own networks (e.g. 10.0.0.0/8, 2001:db8::/48), or use --auth-required with "
          "--auth-users; if you really mean it, add --allow-open-relay true (config: relay.allow_open_relay)"));
    }
  }
  if (c.auth_required && c.auth_users.empty()) {
    return absl::InvalidArgumentError("--auth-required true needs --auth-users");
  }
  if (!c.webhooks.empty() && c.event_log.empty()) {
    return absl::InvalidArgumentError(
        "[[webhook]] ships the lines of the event log: set --event-log FILE (config: delivery.event_log)");
  }
  if (c.feedback_verp && c.feedback_domains.empty()) {
    return absl::InvalidArgumentError(
        "--feedback-verp true needs --feedback-domains: the domain the VERP senders are at, whose mail ringmta "
        "reads (config: feedback.domains = [\"bounces.example.com\"])");
  }
  if (!c.feedback_domains.empty() && std::find(c.feedback_domains.begin(), c.feedback_domains.end(),
                                               c.feedback_verp_domain) == c.feedback_domains.end()) {
    return absl::InvalidArgumentError(absl::StrCat("--feedback-verp-domain ", c.feedback_verp_domain,
                                                   " is not one of --feedback-domains: its bounces would be relayed"));
  }
  if (!c.feedback_domains.empty() && !c.suppression) {
    return absl::InvalidArgumentError(
        "--feedback-domains needs the suppression list (--suppression true): what comes back adds to it");
  }
  if (c.hostname.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    c.hostname = name[0] != 0 ? name : "localhost";
  }
  return absl::OkStatus();
}

}  // namespace ringmta::config_internal
