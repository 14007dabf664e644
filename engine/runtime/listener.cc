#include "engine/runtime/listener.h"

#include <arpa/inet.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

absl::StatusOr<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint ep;
  ep.text = std::string(text);
  std::string host;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", av(text), "': expected [IPV6]:PORT"));
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", av(text), "': expected ADDR:PORT"));
    }
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  int p = 0;
  if (!absl::SimpleAtoi(av(port), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", av(text), "': port must be 0-65535"));
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(p));
    ep.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(p));
    ep.len = sizeof(sockaddr_in6);
  } else {
    // Names other than localhost would need DNS at start-up; listen
    // addresses are IPs in every MTA config worth copying.
    return absl::InvalidArgumentError(absl::StrCat("bad address '", av(text), "': use an IP address"));
  }
  return ep;
}

absl::StatusOr<int> open_listener(const Endpoint& ep, int backlog) {
  int fd = socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("socket(", ep.text, ")"));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int e = errno;
    close(fd);
    return absl::ErrnoToStatus(e, absl::StrCat("setsockopt(SO_REUSEPORT, ", ep.text, ")"));
  }
  // Accepted sockets inherit TCP_NODELAY: replies are small and a pipelined
  // client waits for them, so Nagle would only add delay.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (ep.addr.ss_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    int e = errno;
    close(fd);
    std::string hint = e == EADDRINUSE ? " (another program uses this port: pick another with --listen)"
                       : e == EACCES   ? " (ports below 1024 need root)"
                                       : "";
    return absl::ErrnoToStatus(e, absl::StrCat("bind(", ep.text, ")", hint));
  }
  if (listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    return absl::ErrnoToStatus(e, absl::StrCat("listen(", ep.text, ")"));
  }
  return fd;
}

std::string peer_text(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    }
  } else if (addr->sa_family == AF_UNIX) {
    return reinterpret_cast<const sockaddr_un*>(addr)->sun_path;  // an LMTP route's socket
  } else {
    return "unknown";
  }
  return buf;
}

}  // namespace ringmta
