// tools/sendmail/stdio_relay.cc — the -bs relay (stdio_relay.h): one poll
// loop over stdin and the socket; no parsing, so nothing is changed.
#include "tools/sendmail/stdio_relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tools/sendmail/smtp_connection.h"

namespace ringmta::sendmail {
namespace {

bool write_fd(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = fd == 1 ? ::write(fd, p, n) : ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

int relay_stdio(const HostPort& server, const std::string& server_text) {
  absl::StatusOr<SmtpConnection> conn = SmtpConnection::open(server, 30);
  if (!conn.ok()) {
    std::printf("421 4.3.0 ringmta-sendmail: server %s unreachable (%.*s)\r\n", server_text.c_str(),
                static_cast<int>(conn.status().message().size()), conn.status().message().data());
    std::fflush(stdout);
    return EX_TEMPFAIL;
  }
  const int sock = conn->fd();
  // stdin is read only once the server has greeted: a caller that writes its
  // whole session at once must not be taken for an early talker.
  bool greeted = false;
  bool stdin_open = true;
  // After stdin ends, the server may still be answering (the end of DATA
  // waits for its fsync); once it has been quiet this long, it has said all.
  constexpr int kQuietMs = 5000;
  bool write_shut = false;
  char buf[65536];
  for (;;) {
    const bool read_stdin = stdin_open && greeted;
    pollfd p[2] = {{sock, POLLIN, 0}, {0, POLLIN, 0}};
    int n = ::poll(p, read_stdin ? 2 : 1, stdin_open ? 3600 * 1000 : kQuietMs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return EX_OSERR;
    if (n == 0) {
      if (stdin_open) return EX_TEMPFAIL;  // an hour without a word from either side
      if (write_shut) return EX_OK;
      ::shutdown(sock, SHUT_WR);  // let the server see the end, and answer it
      write_shut = true;
      continue;
    }
    if (p[0].revents != 0) {
      ssize_t got = ::recv(sock, buf, sizeof buf, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return EX_OK;  // the server ended the session (QUIT, or its own 421)
      greeted = true;
      if (!write_fd(1, buf, static_cast<size_t>(got))) return EX_IOERR;
    }
    if (read_stdin && p[1].revents != 0) {
      ssize_t got = ::read(0, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        stdin_open = false;
        continue;
      }
      if (!write_fd(sock, buf, static_cast<size_t>(got))) return EX_TEMPFAIL;
    }
  }
}

}  // namespace ringmta::sendmail
