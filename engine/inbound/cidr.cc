#include "engine/inbound/cidr.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

bool prefix_match(const uint8_t* a, const uint8_t* b, int bits) {
  int full = bits / 8;
  if (std::memcmp(a, b, full) != 0) {
    return false;
  }
  int rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

absl::StatusOr<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  c._text = std::string(text);
  std::string addr(text);
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = std::string(text.substr(0, slash));
    if (!absl::SimpleAtoi(av(text.substr(slash + 1)), &prefix) || prefix < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad network '", av(text), "': prefix length"));
    }
  }
  if (inet_pton(AF_INET, addr.c_str(), c._bytes.data()) == 1) {
    c._v6 = false;
    c._prefix = prefix < 0 ? 32 : prefix;
    if (c._prefix > 32) {
      return absl::InvalidArgumentError(absl::StrCat("bad network '", av(text), "': prefix over 32"));
    }
  } else if (inet_pton(AF_INET6, addr.c_str(), c._bytes.data()) == 1) {
    c._v6 = true;
    c._prefix = prefix < 0 ? 128 : prefix;
    if (c._prefix > 128) {
      return absl::InvalidArgumentError(absl::StrCat("bad network '", av(text), "': prefix over 128"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("bad network '", av(text), "': expected ADDRESS/PREFIX, e.g. 10.0.0.0/8"));
  }
  return c;
}

bool Cidr::contains(const sockaddr* addr) const {
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return !_v6 && prefix_match(reinterpret_cast<const uint8_t*>(&in->sin_addr), _bytes.data(), _prefix);
  }
  if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    const uint8_t* b = in6->sin6_addr.s6_addr;
    if (_v6) {
      return prefix_match(b, _bytes.data(), _prefix);
    }
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      return prefix_match(b + 12, _bytes.data(), _prefix);
    }
  }
  return false;
}

bool any_contains(const std::vector<Cidr>& nets, const sockaddr* addr) {
  for (const Cidr& n : nets) {
    if (n.contains(addr)) {
      return true;
    }
  }
  return false;
}

}  // namespace ringmta
