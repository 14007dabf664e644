// engine/daemon/listeners.h — the sockets and TLS contexts each shard gets at
// start: one SO_REUSEPORT listener per address per shard (plain --listen
// first, then --listen-tls), and one server TLS context per shard.
//
//   auto tls = tls_contexts(config, shards);        // as root: the key is readable
//   auto l = open_shard_listeners(config, shards);  // l->fds[shard], l->is_tls
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

// ShardListeners: fds[s] are shard s's listening sockets, in the same
// order for every shard; is_tls[i] says whether the i-th speaks implicit TLS.
struct ShardListeners {
  std::vector<std::vector<int>> fds;
  std::vector<bool> is_tls;
  std::vector<std::vector<int>> admin_fds;  // admin_fds[s]: shard s's --admin-listen sockets
};

// open_shard_listeners opens every --listen and --listen-tls address once
// per shard. A default --listen address that cannot be opened is only a
// warning (a machine without IPv6, say); anything else is an error, and so
// is having no listener at all.
absl::StatusOr<ShardListeners> open_shard_listeners(const Config& config, unsigned shards);

// tls_contexts builds one server context per shard (wolfSSL contexts are
// not shared between threads), or none without --tls-cert; the error names
// the file.
absl::StatusOr<std::vector<std::unique_ptr<TlsContext>>> tls_contexts(const Config& config, unsigned shards);

}  // namespace ringmta
