// engine/dns/mx_route.h — where mail for a domain goes, by the rules of
// RFC 5321 §5.1 and RFC 7505, as pure functions over DNS answers (no I/O):
// the resolver (engine/dns/dns_resolver.h) feeds them what it looked up.
//
//   std::vector<MxRecord> mx = ...;               // the domain's MX answer
//   if (is_null_mx(mx)) { bounce 556 5.1.10 }
//   order_by_preference(mx, rng);                 // ties shuffled
//   MxRoute r = assemble_route("example.test", mx, /*implicit=*/false, hosts);
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringmta {

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // lower case, no trailing dot; "" is the root (".")
};

// MxStatus is the outcome of routing one domain. What the caller does:
//   kOk         deliver to `hosts` in order
//   kNullMx     the domain accepts no mail (RFC 7505): bounce, 556 5.1.10
//   kNoDomain   NXDOMAIN: bounce, 550 5.1.2
//   kNoAddress  the domain exists but no MX host (or, without MX, the domain
//               itself) has an address: bounce, 550 5.4.4
//   kTempFail   SERVFAIL, timeout, refused: defer, 451 4.4.3
enum class MxStatus : uint8_t { kOk, kNullMx, kNoDomain, kNoAddress, kTempFail };

const char* mx_status_name(MxStatus status);
// mx_status_is_permanent says whether the caller should bounce rather than defer.
bool mx_status_is_permanent(MxStatus status);

struct MxHost {
  std::string name;
  uint16_t preference = 0;
  // IPv4 first, then IPv6; ports are 0: the caller sets the MX port.
  std::vector<sockaddr_storage> addresses;
};

struct MxRoute {
  MxStatus status = MxStatus::kTempFail;
  std::vector<MxHost> hosts;  // by preference; empty unless kOk
  bool implicit = false;      // no MX records: the domain is its own MX
  std::string error;          // for logs and the event log; set unless kOk
};

// HostAnswer is what the A and AAAA lookups of one host found.
struct HostAnswer {
  std::vector<sockaddr_storage> addresses;
  // temp_failed: the A or AAAA lookup failed transiently. It matters only
  // when no address was found: a host with an IPv4 address is usable even
  // if its AAAA lookup failed.
  bool temp_failed = false;
  std::string error;         // why it has no addresses, when it has none
};

// is_null_mx says whether `records` is exactly one MX of preference 0
// pointing at the root: the domain's owner says it takes no mail.
bool is_null_mx(const std::vector<MxRecord>& records);

// order_by_preference sorts by preference, lowest first, shuffling records
// of equal preference with `rng` so that load spreads over them (§5.1).
// Records pointing at the root are dropped: they name no host.
void order_by_preference(std::vector<MxRecord>& records, std::mt19937_64& rng);

// limit_mx_hosts keeps the records of the first `max_hosts` distinct hosts
// of an ordered list: a domain may list hundreds of MX hosts, and looking
// all of them up would cost queries no delivery attempt will use (Postfix
// stops at smtp_mx_address_limit the same way).
void limit_mx_hosts(std::vector<MxRecord>& ordered, size_t max_hosts);

// assemble_route builds the route for `domain` from its ordered MX records
// and the answers for their hosts (keyed by host name). Hosts without
// addresses are left out; if none is left the route fails: kTempFail if
// any host's lookup failed transiently, else kNoAddress.
MxRoute assemble_route(std::string_view domain, const std::vector<MxRecord>& ordered,
                       bool implicit, const absl::flat_hash_map<std::string, HostAnswer>& hosts);

}  // namespace ringmta
