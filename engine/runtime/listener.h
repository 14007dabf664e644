// engine/runtime/listener.h — listening sockets. Every shard opens its own socket
// per listen address with SO_REUSEPORT, so the kernel spreads incoming
// connections across shards and no shard ever accepts for another.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringmta {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;
};

// parse_endpoint reads "1.2.3.4:25", "[::1]:25" or "localhost:25".
absl::StatusOr<Endpoint> parse_endpoint(std::string_view text);

// open_listener returns a non-blocking listening socket bound to ep.
absl::StatusOr<int> open_listener(const Endpoint& ep, int backlog = 4096);

// peer_text formats a socket address's IP as text ("127.0.0.1", "::1").
std::string peer_text(const sockaddr* addr);

}  // namespace ringmta
