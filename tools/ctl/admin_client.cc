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

absl::StatusOr<AdminReply> AdminClient::call(std::string_view method, std::string_view target,
                                             std::string_view body) {
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
                                 "\r\nConnection: close\r\nContent-Length: ", body.size(), "\r\n");
  if (!body.empty()) req += "Content-Type: application/json\r\n";
  if (!_token.empty()) absl::StrAppend(&req, "Authorization: Bearer ", _token, "\r\n");
  req += "\r\n";
  req += body;
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

int request(const Command& c, const Flags& f, std::string_view method, const std::string& target, Answer* out,
            std::string_view body) {
  AdminClient client(f);
  absl::StatusOr<AdminReply> r = client.call(method, target, body);
  if (!r.ok()) {
    std::fprintf(stderr, "ringmta-ctl %s: %.*s\n", command_path(c).c_str(),
                 static_cast<int>(r.status().message().size()), r.status().message().data());
    return kExitFailed;
  }
  out->body = std::move(r->body);
  if (f.has("json")) {
    std::fputs(out->body.c_str(), stdout);
  }
  if (out->parser.parse(out->body).get(out->doc) != simdjson::SUCCESS) {
    std::fprintf(stderr, "ringmta-ctl %s: %s answered %d with something that is not JSON\n",
                 command_path(c).c_str(), client.url().c_str(), r->status);
    return kExitFailed;
  }
  if (r->status < 200 || r->status > 299) {
    std::string_view e;
    if (out->doc["error"].get(e) != simdjson::SUCCESS) e = "(no reason given)";
    std::fprintf(stderr, "ringmta-ctl %s: %d: %.*s\n", command_path(c).c_str(), r->status,
                 static_cast<int>(e.size()), e.data());
    return r->status == 400 ? kExitUsage : kExitFailed;
  }
  return f.has("json") ? -1 : kExitOk;  // -1: printed already, nothing more to do
}

std::string_view str(simdjson::dom::element e, std::string_view key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? v : std::string_view();
}

int64_t num(simdjson::dom::element e, std::string_view key) {
  int64_t v = 0;
  if (e[key].get(v) != simdjson::SUCCESS) {
    uint64_t u = 0;
    if (e[key].get(u) == simdjson::SUCCESS) v = static_cast<int64_t>(u);
  }
  return v;
}

}  // namespace ringmta::ctl
