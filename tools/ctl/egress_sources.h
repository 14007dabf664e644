// tools/ctl/egress_sources.h — the [egress.source."S"] addresses and EHLO
// names of a config file, read for the DNS check. Not load_egress
// (engine/config/egress_file.h): that binds each address to prove this host
// can send from it, and the host that runs a check need not be the one
// that sends.
//
//   absl::StatusOr<std::vector<EgressAddress>> s = read_egress_sources("/etc/ringmta/ringmta.toml");
//   (*s)[0].name == "ip-1", (*s)[0].address == "192.0.2.10", (*s)[0].ehlo == "mta1.example.com"
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/ctl/ip_address.h"

namespace ringmta::ctl {

struct EgressAddress {
  std::string name;  // the source's name; "--ip" for an address from the command line
  IpAddress address;
  std::string ehlo;  // empty when not configured
};

// read_egress_sources: the sources in the file's order; none when it has
// no [egress]. An error names the file and key, as the daemon's would.
absl::StatusOr<std::vector<EgressAddress>> read_egress_sources(const std::string& config_file);

}  // namespace ringmta::ctl
