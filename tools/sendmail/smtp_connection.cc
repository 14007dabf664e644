// tools/sendmail/smtp_connection.cc — a blocking SMTP connection with
// deadlines (smtp_connection.h).
#include "tools/sendmail/smtp_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::sendmail {
namespace {

absl::Status unavailable(std::string_view what, int err) {
  return absl::UnavailableError(absl::StrCat(av(what), ": ", std::strerror(err)));
}

// connect with a deadline: non-blocking connect, poll, then SO_ERROR.
absl::StatusOr<int> connect_one(const addrinfo* ai, int timeout_s) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return unavailable("socket", errno);
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    return unavailable("connect", err);
  }
  pollfd p{fd, POLLOUT, 0};
  int n = ::poll(&p, 1, timeout_s * 1000);
  int err = 0;
  socklen_t len = sizeof err;
  if (n == 0) {
    err = ETIMEDOUT;
  } else if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
    err = errno;
  }
  if (err != 0) {
    ::close(fd);
    return unavailable("connect", err);
  }
  return fd;
}

}  // namespace

absl::StatusOr<SmtpConnection> SmtpConnection::open(const HostPort& server, int timeout_s) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string port = std::to_string(server.port);
  if (int rc = ::getaddrinfo(server.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", server.host, ": ", ::gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("no address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<int> fd = connect_one(ai, timeout_s);
    if (fd.ok()) {
      ::freeaddrinfo(res);
      return SmtpConnection(*fd, timeout_s);
    }
    last = fd.status();
  }
  ::freeaddrinfo(res);
  return last;
}

SmtpConnection::SmtpConnection(SmtpConnection&& o) noexcept
    : _fd(o._fd), _timeout_s(o._timeout_s), _verbose(o._verbose), _parser(std::move(o._parser)),
      _in(std::move(o._in)) {
  o._fd = -1;
}

SmtpConnection::~SmtpConnection() {
  if (_fd >= 0) ::close(_fd);
}

absl::Status SmtpConnection::wait_for(short events, int timeout_s, std::string_view what) {
  pollfd p{_fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_s * 1000);
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::UnavailableError(absl::StrCat(av(what), ": no answer within ", timeout_s, " s"));
    if (errno != EINTR) return unavailable(what, errno);
  }
}

absl::Status SmtpConnection::write(std::string_view bytes) {
  if (_verbose && bytes.size() < 1024) {
    std::fprintf(stderr, "-> %.*s", static_cast<int>(bytes.size()), bytes.data());
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (absl::Status st = wait_for(POLLOUT, _timeout_s, "write"); !st.ok()) return st;
      continue;
    }
    return unavailable("write", errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<proto::Reply> SmtpConnection::read_reply(int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    if (!_in.empty()) {
      size_t used = 0;
      proto::ReplyParser::Status st = _parser.parse(_in, &used);
      _in.erase(0, used);
      if (st == proto::ReplyParser::Status::kReply) {
        proto::Reply r = _parser.reply();
        if (_verbose) std::fprintf(stderr, "<- %s\n", proto::format_reply(r).c_str());
        return r;
      }
      if (st == proto::ReplyParser::Status::kError) {
        return absl::UnavailableError(absl::StrCat("the server's reply is not SMTP: ", av(_parser.error())));
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::UnavailableError(absl::StrCat("no reply within ", timeout_s, " s"));
    if (absl::Status st = wait_for(POLLIN, static_cast<int>(left.count()), "read"); !st.ok()) return st;
    char buf[4096];
    ssize_t n = ::recv(_fd, buf, sizeof buf, 0);
    if (n == 0) return absl::UnavailableError("the server closed the connection");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return unavailable("read", errno);
    }
    _in.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace ringmta::sendmail
