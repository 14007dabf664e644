// engine/daemon/signals.h — the daemon's signals, all taken by the main
// thread through sigwait: SIGHUP reloads the TLS certificate, the AUTH
// users, the shaping tables and the DKIM keys, SIGTERM and SIGINT stop. Shard threads never see a signal.
//
//   sigset_t sigs = block_signals();       // first thing, before any thread
//   ... start the shards ...
//   int sig = wait_for_stop(sigs, config, services, auth, signing);   // reloads on SIGHUP
#pragma once

#include <signal.h>

#include <memory>
#include <vector>

#include "engine/auth/auth_service.h"
#include "engine/config/config.h"
#include "engine/dkim/signing_service.h"
#include "engine/shard.h"

namespace ringmta {

// block_signals blocks SIGTERM, SIGINT and SIGHUP in this thread (threads
// started later inherit the mask) and ignores SIGPIPE; it returns the set
// wait_for_stop waits on.
sigset_t block_signals();

// reload is SIGHUP: a fresh TLS context for every shard (taken by each on
// its own thread), a fresh AUTH user list (auth may be null), the shaping
// tables and the [[dkim]] keys (signing may be null). Files are
// read as --user now: a key only root can read cannot be reloaded, and the
// old one stays.
void reload(const Config& config, std::vector<std::unique_ptr<ShardServices>>& services, AuthService* auth,
            SigningService* signing);

// wait_for_stop waits for a signal in sigs, reloading on each SIGHUP, and
// returns the one that ends the daemon.
int wait_for_stop(const sigset_t& sigs, const Config& config,
                  std::vector<std::unique_ptr<ShardServices>>& services, AuthService* auth,
                  SigningService* signing);

}  // namespace ringmta
