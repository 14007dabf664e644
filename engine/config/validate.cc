// engine/config/validate.cc — checks across settings (validate.h).
#include "engine/config/validate.h"

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
  if (c.auth_required && c.auth_users.empty()) {
    return absl::InvalidArgumentError("--auth-required true needs --auth-users");
  }
  if (!c.webhooks.empty() && c.event_log.empty()) {
    return absl::InvalidArgumentError(
        "[[webhook]] ships the lines of the event log: set --event-log FILE (config: delivery.event_log)");
  }
  if (c.hostname.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    c.hostname = name[0] != 0 ? name : "localhost";
  }
  return absl::OkStatus();
}

}  // namespace ringmta::config_internal
