// engine/outbound/site_route.h — where a routed destination's mail goes:
// its site and the addresses to try, in order. Made once per routing answer
// by the shard that routed the domain, then shared read-only with the
// shard that owns the site, through the jobs it forwards (an immutable
// object: the only cross-shard state besides a job's MessageLoan).
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

namespace ringmta {

// Target is one address a connection may try, in order of preference.
struct Target {
  std::string host;  // MX host name, or the route's HOST:PORT
  sockaddr_storage addr{};
  socklen_t len = 0;
};

struct SiteRoute {
  std::string site;  // "mx:a.example,b.example", "domain:example.com", "[host:port]" or "[lmtp:...]"
  std::vector<Target> targets;
  bool lmtp = false;  // the targets speak LMTP (RFC 2033)
};

}  // namespace ringmta
