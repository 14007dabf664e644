// engine/delivery/nexthop.h — where a recipient's mail goes: a configured
// route for its domain, the host of an address literal, the relay host, or
// the domain's MX hosts; and which destination queue it waits in.
//
//   Nexthop nh = nexthop_for("example.com", config);
//   std::string key = destination_key(nh);   // "example.com", "[host:25]", ...
#pragma once

#include <string>
#include <string_view>

#include "engine/config/config.h"
#include "engine/delivery/delivery_job.h"

namespace ringmta {

// nexthop_for: the nexthop for a (non-empty) recipient domain.
Nexthop nexthop_for(std::string_view domain, const Config& config);

// destination_key: one destination per MX domain, or per fixed host (all
// domains routed to one host share its connection pool); TLS policies other
// than opportunistic never share a pool.
std::string destination_key(const Nexthop& nh);

}  // namespace ringmta
