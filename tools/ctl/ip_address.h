// tools/ctl/ip_address.h — an IPv4 or IPv6 address as the DNS checks need
// it: parsed from text, matched against a CIDR network (SPF ip4/ip6/a/mx),
// and turned into its reverse-lookup name (PTR, FCrDNS).
//
//   std::optional<IpAddress> a = IpAddress::parse("192.0.2.10");
//   a->in_network(*IpAddress::parse("192.0.2.0"), 24);   // true
//   a->reverse_name();                                   // "10.2.0.192.in-addr.arpa"
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringmta::ctl {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network order; an IPv4 address uses the first 4

  // parse reads dotted-quad IPv4 or any RFC 4291 IPv6 text. An IPv4-mapped
  // IPv6 address (::ffff:192.0.2.1) comes back as IPv4, as RFC 7208 5.6 asks.
  static std::optional<IpAddress> parse(std::string_view text);

  size_t size() const { return v6 ? 16 : 4; }
  int max_prefix() const { return v6 ? 128 : 32; }
  // to_string: the canonical text (inet_ntop).
  std::string to_string() const;
  // in_network: the first `prefix` bits equal those of `net` (same family).
  bool in_network(const IpAddress& net, int prefix) const;
  // reverse_name: "d.c.b.a.in-addr.arpa", or the 32 nibbles of ip6.arpa.
  std::string reverse_name() const;
  // dotted: SPF's %{i} (RFC 7208 7.3): the IPv4 text, or for IPv6 the 32
  // nibbles in order, dot-separated.
  std::string dotted() const;

  bool operator==(const IpAddress&) const = default;
};

}  // namespace ringmta::ctl
