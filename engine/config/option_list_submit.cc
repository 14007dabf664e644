// engine/config/option_list_submit.cc — the settings of local submission
// (submit.*): the maildrop the engine picks message files up from
// (engine/inbound/pickup.h), and the server ringmta-sendmail talks to.
// Entries of the one option table (option_table.h).
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/config/option_table.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::config_internal {
namespace {

// host_port_ok: "HOST:PORT" or "[IPV6]:PORT", the port 1..65535.
bool host_port_ok(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(av(s.substr(colon + 1)), &port) || port == 0 || port > 65535) {
    return false;
  }
  std::string_view host = s.substr(0, colon);
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']';
  }
  return host.find_first_of("[]: /") == std::string_view::npos;
}

}  // namespace

std::vector<Option> submit_options() {
  return {
      {"maildrop", "submit.maildrop", Kind::kString, "(SPOOL/maildrop)",
       "directory of message files left by ringmta-sendmail when the server is down and by ringmta-ctl "
       "import-postfix-queue; picked up at start and within a second (README \"sendmail\"); \"\" turns the "
       "pickup off",
       [](Config& c, const std::vector<std::string>& v) {
         c.maildrop_dir = v[0];
         c.maildrop_is_default = false;
         return absl::OkStatus();
       }},
      {"submit-server", "submit.server", Kind::kString, "127.0.0.1:2525",
       "HOST:PORT ringmta-sendmail submits to (it reads this key from the same file; the daemon only checks it)",
       [](Config& c, const std::vector<std::string>& v) {
         if (!host_port_ok(v[0])) {
           return absl::InvalidArgumentError(
               absl::StrCat("expected HOST:PORT or [IPV6]:PORT, got '", v[0], "'"));
         }
         c.submit_server = v[0];
         return absl::OkStatus();
       }},
  };
}

}  // namespace ringmta::config_internal
