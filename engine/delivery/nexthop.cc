// engine/delivery/nexthop.cc — routing a recipient domain (nexthop.h).
#include "engine/delivery/nexthop.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

Nexthop nexthop_for(std::string_view domain, const Config& config) {
  Nexthop nh;
  auto route = std::find_if(config.routes.begin(), config.routes.end(),
                            [&](const auto& r) { return r.first == domain; });
  if (route != config.routes.end()) {
    nh.name = route->second;
  } else if (domain.front() == '[') {
    // An address literal (RFC 5321 4.1.3): that host, no DNS. The parser
    // lower-cased an IPv6 tag to "ipv6:".
    std::string_view lit = domain.substr(1, domain.size() - 2);
    bool v6 = lit.substr(0, 5) == "ipv6:";
    nh.name = v6 ? absl::StrCat("[", av(lit.substr(5)), "]:", config.mx_port)
                 : absl::StrCat(av(lit), ":", config.mx_port);
  } else if (!config.relay_host.empty()) {
    nh.name = config.relay_host;
  } else {
    nh.use_mx = true;
    nh.name = std::string(domain);
  }
  // An LMTP route: to the mail store next door, where STARTTLS is off
  // unless the route asks for it (HOST:PORT/MODE); a unix socket's path
  // has slashes of its own and never TLS.
  parse_tls_policy(config.outbound_tls, &nh.tls);
  if (nh.name.starts_with("lmtp:")) {
    nh.lmtp = true;
    nh.name.erase(0, 5);
    nh.tls = proto::TlsPolicy::kOff;
    if (nh.name.starts_with("unix:")) {
      return nh;
    }
  }
  // A route or relay host may carry its own TLS policy: HOST:PORT/MODE.
  if (size_t slash = nh.name.rfind('/'); !nh.use_mx && slash != std::string::npos) {
    parse_tls_policy(std::string_view(nh.name).substr(slash + 1), &nh.tls);
    nh.name.resize(slash);
  }
  return nh;
}

std::string destination_key(const Nexthop& nh) {
  std::string key = nh.use_mx ? nh.name : absl::StrCat("[", nh.lmtp ? "lmtp:" : "", nh.name, "]");
  if (nh.tls != proto::TlsPolicy::kOpportunistic) {
    absl::StrAppend(&key, "/tls", static_cast<int>(nh.tls));  // policies do not share pools
  }
  return key;
}

}  // namespace ringmta
