#include "engine/inbound/client_limits.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace ringmta {
namespace {

// mix is splitmix64's finalizer: a fast, well-distributed 64-bit hash.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

ClientLimits::ClientLimits(ClientLimitSettings settings)
    : _settings(settings), _cells(std::make_unique<Cells>()) {}

ClientLimits::Key ClientLimits::key(const sockaddr* peer) {
  uint64_t id = 0;
  if (peer->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
    const uint8_t* b = in6->sin6_addr.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      uint32_t v4;
      std::memcpy(&v4, b + 12, 4);  // an IPv4 client on a dual-stack socket
      id = (uint64_t{1} << 32) | v4;
    } else {
      std::memcpy(&id, b, 8);  // the /64
      id = mix(id ^ 0x6666666666666666ULL);
    }
  } else if (peer->sa_family == AF_INET) {
    id = (uint64_t{1} << 32) | reinterpret_cast<const sockaddr_in*>(peer)->sin_addr.s_addr;
  }
  const uint64_t h1 = mix(id);
  const uint64_t h2 = mix(h1 ^ 0x9e3779b97f4a7c15ULL);
  return {h1 & (kCells - 1), kCells + (h2 & (kCells - 1))};
}

// bump_window adds one to a windowed count, starting over when the window
// has moved on; returns the new count.
uint32_t ClientLimits::bump_window(std::atomic<uint64_t>& cell, uint32_t window) {
  uint64_t old = cell.load(std::memory_order_relaxed);
  for (;;) {
    const bool same = static_cast<uint32_t>(old >> 32) == window;
    const uint32_t count = same ? static_cast<uint32_t>(old) + 1 : 1;
    const uint64_t next = (uint64_t{window} << 32) | count;
    if (cell.compare_exchange_weak(old, next, std::memory_order_relaxed)) {
      return count;
    }
  }
}

uint32_t ClientLimits::read_window(const std::atomic<uint64_t>& cell, uint32_t window) {
  const uint64_t v = cell.load(std::memory_order_relaxed);
  return static_cast<uint32_t>(v >> 32) == window ? static_cast<uint32_t>(v) : 0;
}

ClientLimits::Verdict ClientLimits::admit(const sockaddr* peer, int64_t now_ms) {
  const Key k = key(peer);
  Cells& c = *_cells;
  if (_settings.max_connect_rate != 0) {
    const auto second = static_cast<uint32_t>(now_ms / 1000);
    const uint32_t n = std::min(bump_window(c.connect_rate[k.a], second),
                                bump_window(c.connect_rate[k.b], second));
    if (n > _settings.max_connect_rate) {
      return Verdict::kTooFast;
    }
  }
  if (_settings.max_connections != 0) {
    const uint32_t n = std::min(c.connections[k.a].fetch_add(1, std::memory_order_relaxed),
                                c.connections[k.b].fetch_add(1, std::memory_order_relaxed)) + 1;
    if (n > _settings.max_connections) {
      release(peer);
      return Verdict::kTooManyConnections;
    }
  }
  return Verdict::kOk;
}

void ClientLimits::release(const sockaddr* peer) {
  if (_settings.max_connections == 0) {
    return;
  }
  const Key k = key(peer);
  _cells->connections[k.a].fetch_sub(1, std::memory_order_relaxed);
  _cells->connections[k.b].fetch_sub(1, std::memory_order_relaxed);
}

void ClientLimits::auth_failed(const sockaddr* peer, int64_t now_ms) {
  if (_settings.max_auth_failures == 0) {
    return;
  }
  const Key k = key(peer);
  const auto minute = static_cast<uint32_t>(now_ms / 60000);
  bump_window(_cells->auth_failures[k.a], minute);
  bump_window(_cells->auth_failures[k.b], minute);
}

bool ClientLimits::auth_blocked(const sockaddr* peer, int64_t now_ms) const {
  if (_settings.max_auth_failures == 0) {
    return false;
  }
  const Key k = key(peer);
  const auto minute = static_cast<uint32_t>(now_ms / 60000);
  return std::min(read_window(_cells->auth_failures[k.a], minute),
                  read_window(_cells->auth_failures[k.b], minute)) >= _settings.max_auth_failures;
}

}  // namespace ringmta
