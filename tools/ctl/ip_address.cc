// tools/ctl/ip_address.cc — IpAddress (ip_address.h).
#include "tools/ctl/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace ringmta::ctl {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// nibbles: the 32 hex digits of an IPv6 address, most significant first.
std::string nibbles(const IpAddress& a) {
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out += kHex[a.bytes[i] >> 4];
    out += kHex[a.bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; anything longer than an IPv6
  // text with an embedded IPv4 tail is not an address.
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) {
    return std::nullopt;
  }
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
    return v4;
  }
  a.v6 = true;
  return a;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::in_network(const IpAddress& net, int prefix) const {
  if (v6 != net.v6 || prefix < 0 || prefix > max_prefix()) {
    return false;
  }
  const int whole = prefix / 8;
  if (std::memcmp(bytes.data(), net.bytes.data(), whole) != 0) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[whole] & mask) == (net.bytes[whole] & mask);
}

std::string IpAddress::reverse_name() const {
  std::string out;
  if (!v6) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(bytes[i]);
      out += '.';
    }
    return out + "in-addr.arpa";
  }
  const std::string n = nibbles(*this);
  for (auto it = n.rbegin(); it != n.rend(); ++it) {
    out += *it;
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string IpAddress::dotted() const {
  if (!v6) {
    return to_string();
  }
  std::string out;
  for (char c : nibbles(*this)) {
    if (!out.empty()) {
      out += '.';
    }
    out += c;
  }
  return out;
}

}  // namespace ringmta::ctl
