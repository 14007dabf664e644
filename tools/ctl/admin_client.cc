// tools/ctl/admin_client.cc — a blocking HTTP/1.1 request (admin_client.h).
#include "tools/ctl/admin_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "proto/http_parse.h"

namespace ringmta::ctl {

AdminClient::AdminClient(const Flags& flags) : _url(flags.get("admin", kDefaultUrl)) {
  _token = flags.get("token");
  if (_token.empty()) {
    if (const char* t = std::getenv("RINGMTA_ADMIN_TOKEN")) _token = t;
  }
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

absl::StatusOr<AdminReply> AdminClient::call(std::string_view method, std::string_view target) {
  std::string_view rest = _url;
  if (rest.substr(0, 7) != "http://") {
    return absl::InvalidArgumentError(absl::StrCat("--admin ", _url, ": expected http://HOST:PORT (https is not "
                                                   "supported by ringmta-ctl yet)"));
  }
  rest.remove_prefix(7);
  rest = rest.substr(0, rest.find('/'));
  std::string host(rest), port = "80";
  if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos && rest.back() != ']') {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0) {
    return absl::UnavailableError(absl::StrCat("--admin ", _url, ": ", gai_strerror(e)));
  }
  int fd = -1;
  int err = 0;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", _url, ": ", strerror(err),
                                               " (is ringmta running with --admin-listen there?)"));
  }
  std::string req = absl::StrCat(av(method), " ", av(target), " HTTP/1.1\r\nHost: ", av(rest),
                                 "\r\nConnection: close\r\nContent-Length: 0\r\n");
  if (!_token.empty()) absl::StrAppend(&req, "Authorization: Bearer ", _token, "\r\n");
  req += "\r\n";
  for (size_t done = 0; done < req.size();) {
    const ssize_t n = send(fd, req.data() + done, req.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return absl::UnavailableError(absl::StrCat("sending to ", _url, ": ", strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  proto::HttpParser parser(proto::HttpParser::Kind::kResponse, {.max_header_bytes = 64 * 1024, .max_body = 256u << 20});
  char buf[65536];
  while (!parser.done() && !parser.failed()) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) {
        close(fd);
        return absl::DeadlineExceededError(absl::StrCat("no answer from ", _url, ": ", strerror(errno)));
      }
      parser.feed_eof();
      break;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    while (!data.empty() && !parser.done() && !parser.failed()) {
      data.remove_prefix(parser.feed(data));
    }
  }
  close(fd);
  if (!parser.done()) {
    return absl::DataLossError(absl::StrCat("a broken answer from ", _url, ": ",
                                            parser.failed() ? parser.error().message : "cut short"));
  }
  proto::HttpMessage m = parser.take();
  return AdminReply{m.status, std::move(m.body)};
}

}  // namespace ringmta::ctl
