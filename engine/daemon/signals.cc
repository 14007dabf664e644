// engine/daemon/signals.cc — blocking, waiting for and acting on the
// daemon's signals (signals.h).
#include "engine/daemon/signals.h"

#include <unistd.h>

#include "engine/auth/auth_users.h"
#include "engine/config/dkim_file.h"
#include "engine/config/shaping_file.h"
#include "engine/outbound/backoff_rules.h"
#include "engine/daemon/listeners.h"
#include "engine/daemon/service_notify.h"
#include "engine/runtime/log.h"

namespace ringmta {

sigset_t block_signals() {
  // Signals go to the main thread only, through sigwait; shard threads
  // inherit the mask and are never interrupted.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

void reload(const Config& config, std::vector<std::unique_ptr<ShardServices>>& services, AuthService* auth,
            SigningService* signing) {
  absl::StatusOr<std::vector<std::unique_ptr<TlsContext>>> fresh = tls_contexts(config, services.size());
  if (!fresh.ok()) {
    log_error("SIGHUP: %s (the certificate in use stays)", fresh.status().message());
  } else if (!fresh->empty()) {
    for (size_t i = 0; i < services.size(); ++i) {
      delete services[i]->tls_reload.exchange((*fresh)[i].release());  // one a shard never took
      uint64_t one = 1;
      [[maybe_unused]] ssize_t w = write(services[i]->reload_fd, &one, sizeof one);
    }
    log_info("SIGHUP: TLS certificate %s loaded", config.tls_cert);
  }
  if (!config.shaping_file.empty() || !config.config_file.empty()) {
    absl::StatusOr<Shaping> shaping = load_shaping(config.config_file, config.shaping_file);
    if (!shaping.ok()) {
      log_error("SIGHUP: %s (the shaping tables in use stay)", shaping.status().message());
    } else {
      for (const std::unique_ptr<ShardServices>& s : services) {
        delete s->shaping_reload.exchange(new Shaping(*shaping), std::memory_order_acq_rel);
      }
      log_info("SIGHUP: shaping tables loaded from %s (%zu domain rules, %zu backoff rules)",
               config.shaping_file.empty() ? config.config_file : config.shaping_file, shaping->domains.size(),
               shaping->rules ? shaping->rules->rules().size() : size_t{0});
    }
  }
  if (auth != nullptr) {
    absl::StatusOr<AuthUsers> users = AuthUsers::load(config.auth_users);
    if (!users.ok()) {
      log_error("SIGHUP: %s (the users in use stay)", users.status().message());
    } else {
      log_info("SIGHUP: %zu AUTH users loaded from %s", users->size(), config.auth_users);
      auth->replace_users(std::move(*users));
    }
  }
  if (signing != nullptr) {
    absl::StatusOr<std::shared_ptr<const DkimSigners>> keys = load_dkim(config.config_file);
    if (!keys.ok()) {
      log_error("SIGHUP: %s (the DKIM keys in use stay)", keys.status().message());
    } else if (*keys == nullptr) {
      log_error("SIGHUP: %s has no [[dkim]] now; restart to stop signing (the DKIM keys in use stay)",
                config.config_file);
    } else {
      log_info("SIGHUP: %zu DKIM keys loaded from %s", (*keys)->entries().size(), config.config_file);
      signing->replace(std::move(*keys));
    }
  }
}

int wait_for_stop(const sigset_t& sigs, const Config& config,
                  std::vector<std::unique_ptr<ShardServices>>& services, AuthService* auth,
                  SigningService* signing) {
  int sig = 0;
  while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
    service_reloading();
    reload(config, services, auth, signing);
    service_notify("READY=1");
  }
  return sig;
}

}  // namespace ringmta
