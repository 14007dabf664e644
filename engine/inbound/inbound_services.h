// engine/inbound/inbound_services.h — what main() hands a shard besides its
// sockets (for its inbound sessions, and the shaping tables a SIGHUP
// reloads); main owns all of it and outlives the shard.
#pragma once

#include <atomic>
#include <memory>

#include "engine/auth/auth_service.h"
#include "engine/dkim/signing_service.h"
#include "engine/inbound/client_limits.h"
#include "engine/outbound/shaping.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

struct ShardServices {
  AuthService* auth = nullptr;      // null: no --auth-users, AUTH not offered
  ClientLimits* limits = nullptr;   // per-client-IP limits, shared by all shards
  SigningService* signing = nullptr;  // null: no [[dkim]], nothing is signed
  // The server TLS context, built by main() while it could still read the
  // key (before dropping privileges). Null: no certificate.
  std::unique_ptr<TlsContext> tls_server;
  // SIGHUP: main() puts a freshly loaded context here and signals
  // reload_fd; the shard takes it on its own thread.
  std::atomic<TlsContext*> tls_reload{nullptr};
  int reload_fd = -1;
  // SIGHUP: freshly read shaping tables; the shard's Outbound takes them at
  // its next tick (queued mail and the queues' state stay).
  std::atomic<Shaping*> shaping_reload{nullptr};

  ~ShardServices() {
    delete tls_reload.load();
    delete shaping_reload.load();
  }
};

}  // namespace ringmta
