// engine/daemon/service_notify.cc — the sd_notify datagram (service_notify.h).
#include "engine/daemon/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"

namespace ringmta {

void service_notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') {
    return;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
    log_warn("NOTIFY_SOCKET=%s is not a socket path: systemd is not told the service state", path);
    return;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';  // the abstract namespace
  }
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log_warn("sd_notify: socket: %s", strerror(errno));
    return;
  }
  const socklen_t alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), alen) < 0) {
    log_warn("sd_notify to %s: %s", path, strerror(errno));
  }
  close(fd);
}

void service_reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const long long us = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  service_notify(absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", us));
}

}  // namespace ringmta
