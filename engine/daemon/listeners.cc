// engine/daemon/listeners.cc — listening sockets and server TLS contexts for
// every shard (listeners.h).
#include "engine/daemon/listeners.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"

namespace ringmta {
namespace {

// open_listeners opens shards × addresses sockets. With port 0 the first
// socket's kernel-chosen port is reused for the others, so every shard
// listens on the same address.
absl::StatusOr<std::vector<std::vector<int>>> open_listeners(std::string_view flag,
                                                             const std::vector<std::string>& addrs,
                                                             bool may_skip, unsigned shards) {
  std::vector<std::vector<int>> fds(shards);
  for (const std::string& text : addrs) {
    absl::StatusOr<Endpoint> ep = parse_endpoint(text);
    if (!ep.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(av(flag), ": ", ep.status().message()));
    }
    std::vector<int> opened;
    absl::Status failed;
    for (unsigned s = 0; s < shards; ++s) {
      absl::StatusOr<int> fd = open_listener(*ep);
      if (!fd.ok()) {
        failed = fd.status();
        break;
      }
      if (s == 0) {
        socklen_t len = ep->len;
        getsockname(*fd, reinterpret_cast<sockaddr*>(&ep->addr), &len);
      }
      opened.push_back(*fd);
    }
    if (!failed.ok()) {
      for (int fd : opened) {
        close(fd);
      }
      if (may_skip) {
        log_warn("not listening on %s (%s): %s", text, flag, failed.message());
        continue;
      }
      return absl::Status(failed.code(), absl::StrCat(av(flag), " ", text, ": ", failed.message()));
    }
    int port = ep->addr.ss_family == AF_INET
                   ? ntohs(reinterpret_cast<sockaddr_in*>(&ep->addr)->sin_port)
                   : ntohs(reinterpret_cast<sockaddr_in6*>(&ep->addr)->sin6_port);
    log_info("listening on %s (port %d, %u shards%s)", text, port, shards,
             flag == "--admin-listen" ? ", admin API" : "");
    for (unsigned s = 0; s < shards; ++s) {
      fds[s].push_back(opened[s]);
    }
  }
  return fds;
}

}  // namespace

absl::StatusOr<ShardListeners> open_shard_listeners(const Config& config, unsigned shards) {
  absl::StatusOr<std::vector<std::vector<int>>> plain =
      open_listeners("--listen", config.listen, config.listen_is_default, shards);
  if (!plain.ok()) {
    return plain.status();
  }
  absl::StatusOr<std::vector<std::vector<int>>> tls = open_listeners("--listen-tls", config.listen_tls, false, shards);
  if (!tls.ok()) {
    return tls.status();
  }
  ShardListeners out;
  out.is_tls.assign((*plain)[0].size(), false);
  out.is_tls.resize(out.is_tls.size() + (*tls)[0].size(), true);
  out.fds = std::move(*plain);
  for (unsigned i = 0; i < shards; ++i) {
    out.fds[i].insert(out.fds[i].end(), (*tls)[i].begin(), (*tls)[i].end());
  }
  if (out.is_tls.empty()) {
    return absl::FailedPreconditionError("no listen address could be opened");
  }
  // The admin API's default address in use (a second ringmta on this
  // host) is only a warning, like --listen's defaults.
  absl::StatusOr<std::vector<std::vector<int>>> admin =
      open_listeners("--admin-listen", config.admin_listen, config.admin_listen_is_default, shards);
  if (!admin.ok()) {
    for (const auto& fds : out.fds) {
      for (int fd : fds) close(fd);
    }
    return admin.status();
  }
  out.admin_fds = std::move(*admin);
  return out;
}

absl::StatusOr<std::vector<std::unique_ptr<TlsContext>>> tls_contexts(const Config& config, unsigned shards) {
  std::vector<std::unique_ptr<TlsContext>> out;
  if (config.tls_cert.empty()) {
    return out;
  }
  TlsOptions o;
  o.cert_file = config.tls_cert;
  o.key_file = config.tls_key;
  for (unsigned i = 0; i < shards; ++i) {
    absl::StatusOr<std::unique_ptr<TlsContext>> ctx = TlsContext::server(o);
    if (!ctx.ok()) {
      return ctx.status();
    }
    out.push_back(std::move(*ctx));
  }
  return out;
}

}  // namespace ringmta
