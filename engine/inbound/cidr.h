// engine/inbound/cidr.h — networks as CIDR prefixes, for relay_networks.
//
//   auto n = Cidr::parse("127.0.0.0/8");      // or "::1/128", or a bare address
//   n->contains(peer_sockaddr);
//
// IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 prefixes, since a
// dual-stack listener reports IPv4 clients that way.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta {

class Cidr {
 public:
  static absl::StatusOr<Cidr> parse(std::string_view text);
  bool contains(const sockaddr* addr) const;
  std::string str() const { return _text; }
  // wide: shorter than /8 (IPv4) or /32 (IPv6, a large ISP's whole
  // allocation): relaying for that many hosts is an open relay.
  bool wide() const { return _prefix < (_v6 ? 32 : 8); }

 private:
  bool _v6 = false;
  std::array<uint8_t, 16> _bytes{};
  int _prefix = 0;
  std::string _text;
};

bool any_contains(const std::vector<Cidr>& nets, const sockaddr* addr);

}  // namespace ringmta
