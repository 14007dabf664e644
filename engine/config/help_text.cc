// engine/config/help_text.cc — what --help prints: one line per entry of the
// option table (flag, help, default, TOML key), so --help and the README's
// flag list can never miss a setting.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/config/config.h"
#include "engine/config/option_table.h"

namespace ringmta {

std::string help_text() {
  using config_internal::Kind;
  using config_internal::Option;
  std::string out =
      "Usage: ringmta [FLAGS]\n"
      "ringmta accepts mail over SMTP and stores it durably in its spool.\n"
      "With no flags it runs on its embedded defaults.\n\n"
      "  --config FILE                  TOML file with settings (flags override it)\n";
  for (const Option& o : config_internal::options()) {
    std::string left = absl::StrCat("  --", o.flag, o.kind == Kind::kList ? " LIST" : " VALUE");
    left.resize(std::max<size_t>(left.size() + 1, 33), ' ');
    absl::StrAppend(&out, left, o.help, " [", o.def, "]  (config: ", o.key, ")\n");
  }
  absl::StrAppend(&out,
                  "  --check-config                 read and check the settings (and the files they name), say so, exit\n"
                  "  --help                         print this and exit\n"
                  "  --version                      print the version and exit\n"
                  "\n"
                  "Tables of the --config file (README, \"Traffic shaping\", \"Egress\", \"DKIM\" and \"Webhooks\"):\n"
                  "  [shaping.default], [shaping.domain.\"D\"], [shaping.domain.\"D\".source.\"S\"]\n"
                  "                                 connection_limit, max_connection_rate, max_message_rate,\n"
                  "                                 max_deliveries_per_connection, max_recipients_per_message,\n"
                  "                                 mx_rollup (domains)\n"
                  "  [[shaping.rule]]               regex, action (suspend|throttle|bounce), duration,\n"
                  "                                 max_message_rate, connection_limit, domain, tenant,\n"
                  "                                 trigger, match_internal\n"
                  "  [egress.source.\"S\"]           address, ehlo\n"
                  "  [egress.pool.\"P\"]             sources = [{ name, weight }]\n"
                  "  [egress]                       default_pool, pool_by_sender_domain\n"
                  "  [[dkim]]                       domain, selector, key, algorithm (rsa-sha256|ed25519-sha256),\n"
                  "                                 canonicalization, headers, expire, sign_for (README \"DKIM\")\n"
                  "  [[webhook]]                    url (http://HOST:PORT/PATH), events, batch_size, max_delay,\n"
                  "                                 headers: the event log POSTed in batches (README \"Webhooks\")\n");
  return out;
}

}  // namespace ringmta
