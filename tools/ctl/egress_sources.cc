// tools/ctl/egress_sources.cc — [egress.source."S"] for the DNS check
// (egress_sources.h).
#include "tools/ctl/egress_sources.h"

#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {

absl::StatusOr<std::vector<EgressAddress>> read_egress_sources(const std::string& config_file) {
  std::vector<EgressAddress> out;
  toml::parse_result res = toml::parse_file(config_file);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", config_file), res.error());
  }
  const toml::node* sources = res.table().at_path("egress.source").node();
  if (sources == nullptr) {
    return out;
  }
  const std::string where = absl::StrCat("config ", config_file, ": egress.source");
  const toml::table* t = sources->as_table();
  if (t == nullptr) {
    return toml_key_error(where, "expected [egress.source.\"NAME\"] tables");
  }
  for (const auto& [name, node] : *t) {
    EgressAddress e;
    e.name = std::string(name.str());
    const std::string at = absl::StrCat(where, ".\"", e.name, "\"");
    const toml::table* st = node.as_table();
    const toml::node* address = st != nullptr ? st->get("address") : nullptr;
    std::optional<IpAddress> ip;
    if (address != nullptr && address->is_string()) {
      ip = IpAddress::parse(*address->value<std::string>());
    }
    if (!ip) {
      return toml_key_error(at, "needs address = \"...\", an IPv4 or IPv6 address such as \"192.0.2.10\"");
    }
    e.address = *ip;
    if (const toml::node* ehlo = st->get("ehlo"); ehlo != nullptr) {
      if (!ehlo->is_string() || ehlo->value<std::string>()->empty()) {
        return toml_key_error(absl::StrCat(at, ".ehlo"), "expected a host name");
      }
      e.ehlo = *ehlo->value<std::string>();
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ringmta::ctl
