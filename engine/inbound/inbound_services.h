// engine/inbound/inbound_services.h — what main() hands a shard besides its
// sockets (for its inbound sessions, and the shaping tables a SIGHUP
// reloads); main owns all of it and outlives the shard.
#pragma once

#include <atomic>
#include <memory>

#include "engine/admin/admin_access.h"
#include "engine/admin/admin_state.h"
#include "engine/auth/auth_service.h"
#include "engine/dkim/signing_service.h"
#include "engine/inbound/client_limits.h"
#include "engine/inbound/maildrop_reader.h"
#include "engine/observe/metrics.h"
#include "engine/outbound/shaping.h"
#include "engine/suppression/suppression_store.h"
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
  // Where the shard publishes its counters for /metrics (all shards share
  // one board, which main owns). Null: nobody reads them.
  MetricsBoard* metrics = nullptr;
  // Who may use the admin API (main reads the tokens file as root). Null:
  // anyone who can connect.
  const AdminAccess* admin_access = nullptr;
  // The operator's suspensions and holds, durable (main opens it in the
  // spool). Null: none.
  AdminState* admin_state = nullptr;
  // The suppression list (main opens it; every shard reads it). Null:
  // suppression.enabled = false.
  SuppressionStore* suppression = nullptr;
  // The maildrop pickup's reader thread (maildrop_reader.h): shard 0
  // stores what it reads. Null: submit.maildrop = "".
  MaildropReader* pickup = nullptr;
  // --admin-tls: the admin API's own server context (read as root, like
  // tls_server). Not reloaded on SIGHUP: restart to change it.
  std::unique_ptr<TlsContext> admin_tls;

  ~ShardServices() {
    delete tls_reload.load();
    delete shaping_reload.load();
  }
};

}  // namespace ringmta
