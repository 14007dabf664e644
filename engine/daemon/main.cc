// engine/daemon/main.cc — the ringmta daemon's start sequence: read the
// settings and the secrets, take the spool lock and recover the spool,
// build the TLS contexts and open the listeners, drop root, start one
// pinned shard thread per CPU, then wait for signals (SIGHUP reloads the
// TLS certificate and the AUTH users, SIGTERM/SIGINT stop). Each step's
// job is in its own file here: spool_start, listeners, process_setup,
// shard_threads, signals.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/auth/auth_service.h"
#include "engine/auth/auth_users.h"
#include "engine/dkim/dkim_signers.h"
#include "engine/dkim/signing_service.h"
#include "engine/config/config.h"
#include "engine/daemon/listeners.h"
#include "engine/daemon/process_setup.h"
#include "engine/daemon/service_notify.h"
#include "engine/daemon/shard_threads.h"
#include "engine/daemon/signals.h"
#include "engine/daemon/spool_start.h"
#include "engine/inbound/client_limits.h"
#include "engine/inbound/maildrop_reader.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"
#include "engine/shard.h"
#include "engine/store/recovered_spool.h"
#include "engine/suppression/feedback_key.h"
#include "engine/suppression/suppression_store.h"
#include "engine/tls/tls_context.h"
#include "spool/maildrop.h"

namespace ringmta {
namespace {

int run(int argc, char** argv) {
  absl::StatusOr<ParsedConfig> parsed = parse_config(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "ringmta: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  if (parsed->exit_now) {
    return 0;
  }
  const Config& config = parsed->config;
  set_log_level(config.log_level);
  const sigset_t sigs = block_signals();

  // Secrets are read first, as root; they are never logged.
  std::optional<AuthUsers> users;
  if (!config.auth_users.empty()) {
    absl::StatusOr<AuthUsers> loaded = AuthUsers::load(config.auth_users);
    if (!loaded.ok()) {
      log_error("%s", loaded.status().message());
      return 1;
    }
    if (loaded->size() == 0) {
      log_warn("%s lists no users: every AUTH will fail", config.auth_users);
    }
    users = std::move(*loaded);
  }

  absl::StatusOr<StartSpool> spool = open_spool(config);
  if (!spool.ok()) {
    log_error("%s", spool.status().message());
    return 1;
  }
  spool::RecoveryReport& report = spool->report;
  if (absl::Status s = prepare_maildrop(config); !s.ok()) {
    log_error("%s", s.message());
    return 1;
  }

  std::vector<int> cpus = usable_cpus();
  unsigned shards = config.shards != 0 ? config.shards : static_cast<unsigned>(cpus.size());
  absl::StatusOr<std::vector<std::unique_ptr<TlsContext>>> contexts = tls_contexts(config, shards);
  if (!contexts.ok()) {
    log_error("%s", contexts.status().message());
    return 1;
  }
  ClientLimits limits({static_cast<uint32_t>(config.max_connections_per_ip),
                       static_cast<uint32_t>(config.max_connect_rate),
                       static_cast<uint32_t>(config.max_auth_failures)});
  // The admin API's tokens are read here, as root, like the TLS key.
  absl::StatusOr<AdminAccess> admin_access = AdminAccess::load(config);
  if (!admin_access.ok()) {
    log_error("%s", admin_access.status().message());
    return 1;
  }
  absl::StatusOr<std::vector<std::unique_ptr<TlsContext>>> admin_tls =
      config.admin_tls ? tls_contexts(config, shards) : std::vector<std::unique_ptr<TlsContext>>{};
  if (!admin_tls.ok()) {
    log_error("%s", admin_tls.status().message());
    return 1;
  }
  MetricsBoard metrics(shards);
  absl::StatusOr<std::unique_ptr<AdminState>> admin_state = AdminState::open(config.spool_dir);
  if (!admin_state.ok()) {
    log_error("%s", admin_state.status().message());
    return 1;
  }
  // The VERP key, read (or made) while still root, like the TLS key.
  if (!config.feedback_domains.empty()) {
    absl::StatusOr<std::string> key = load_feedback_key(config.feedback_key_file);
    if (!key.ok()) {
      log_error("%s", key.status().message());
      return 1;
    }
    parsed->config.feedback_key = std::move(*key);
  }
  // The suppression list: one LMDB environment for every shard, opened
  // (and its writer thread started) before the shards.
  std::unique_ptr<SuppressionStore> suppression;
  if (config.suppression) {
    absl::StatusOr<std::unique_ptr<SuppressionStore>> opened =
        SuppressionStore::open(config.suppression_dir, config.suppression_max_size);
    if (!opened.ok()) {
      log_error("%s", opened.status().message());
      return 1;
    }
    suppression = std::move(*opened);
  }
  std::vector<std::unique_ptr<ShardServices>> services;
  for (unsigned i = 0; i < shards; ++i) {
    auto s = std::make_unique<ShardServices>();
    s->suppression = suppression.get();
    s->limits = &limits;
    s->metrics = &metrics;
    s->admin_access = &*admin_access;
    s->admin_state = admin_state->get();
    if (!admin_tls->empty()) {
      s->admin_tls = std::move((*admin_tls)[i]);
    }
    if (!contexts->empty()) {
      s->tls_server = std::move((*contexts)[i]);
    }
    s->reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    services.push_back(std::move(s));
  }
  absl::StatusOr<ShardListeners> listeners = open_shard_listeners(config, shards);
  if (!listeners.ok()) {
    log_error("%s", listeners.status().message());
    return 1;
  }
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    log_error("eventfd: %s", strerror(errno));
    return 1;
  }

  int event_log_fd = -1;
  if (!config.event_log.empty()) {
    // Read too when a [[webhook]] ships it (shard 0 reads through this fd,
    // at explicit offsets, so O_APPEND's writes are not disturbed).
    const int mode = config.webhooks.empty() ? O_WRONLY : O_RDWR;
    event_log_fd = open(config.event_log.c_str(), mode | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (event_log_fd < 0) {
      log_error("--event-log %s: open: %s", config.event_log, strerror(errno));
      return 1;
    }
  }

  raise_fd_limit();
  // Root is given up here, before a shard reads a byte from the network.
  if (absl::Status s = drop_root(config); !s.ok()) {
    log_error("%s", s.message());
    return 1;
  }
  // The DKIM keys were read by parse_config, as root; the threads start here.
  std::unique_ptr<SigningService> signing;
  if (config.dkim != nullptr) {
    signing = std::make_unique<SigningService>(config.dkim, shards, static_cast<unsigned>(config.signing_threads));
    for (auto& s : services) {
      s->signing = signing.get();
    }
    log_info("dkim: %zu keys, %u signing threads", config.dkim->entries().size(), signing->threads());
  }
  // The maildrop pickup reads as the unprivileged user: a local user's
  // file is never opened with root's rights.
  std::unique_ptr<MaildropReader> pickup;
  if (!config.maildrop_dir.empty()) {
    pickup = std::make_unique<MaildropReader>(config.maildrop_dir,
                                              config.max_message_size + spool::kMaxMaildropHeader);
    if (absl::Status s = pickup->start(); !s.ok()) {
      log_error("%s", s.message());
      return 1;
    }
    services[0]->pickup = pickup.get();
  }
  std::unique_ptr<AuthService> auth;
  if (users) {
    auth = std::make_unique<AuthService>(std::move(*users), shards);
    for (auto& s : services) {
      s->auth = auth.get();
    }
  }

  // The segments recovery found: shared by the shards (they read adopted
  // messages back from them) and deleted as one group once every message
  // in them is final or copied forward (engine/store/recovered_spool.h).
  absl::StatusOr<std::unique_ptr<RecoveredSpool>> recovered = RecoveredSpool::open(config.spool_dir, report);
  if (!recovered.ok()) {
    log_error("spool recovery failed: %s", recovered.status().message());
    return 1;
  }
  Mesh mesh(shards, 4096, encode(Op::kWake));
  Shards shard_set;
  make_shards(shard_set, config, *listeners, &mesh, stop_fd, report, recovered->get(), event_log_fd, services);
  start_shards(shard_set, cpus, stop_fd);
  log_info("ringmta %s started: %u shards, spool %s, hostname %s", RINGMTA_VERSION, shards,
           config.spool_dir, config.hostname);

  service_notify(absl::StrCat("READY=1\nSTATUS=serving on ", absl::StrJoin(config.listen, " "), ", ", shards,
                              " shards"));
  int sig = wait_for_stop(sigs, config, services, auth.get(), signing.get());
  log_info("received %s: stopping (grace %llus for messages in transfer)", strsignal(sig),
           static_cast<unsigned long long>(config.shutdown_grace_s));
  service_notify("STOPPING=1");
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(stop_fd, &one, sizeof one);
  const ShardTotals totals = join_shards(shard_set);
  shard_set.objs.clear();
  if (pickup != nullptr) {
    pickup->stop();
    log_info("pickup: %llu files picked up from %s, %llu set aside",
             static_cast<unsigned long long>(pickup->picked_up()), config.maildrop_dir,
             static_cast<unsigned long long>(pickup->set_aside()));
  }
  auth.reset();
  if (signing != nullptr) {
    const SigningStats& st = signing->stats();
    log_info("dkim: %llu messages signed, %llu without a key for their From: domain, %llu failed",
             static_cast<unsigned long long>(st.signed_messages.load()),
             static_cast<unsigned long long>(st.unsigned_messages.load()),
             static_cast<unsigned long long>(st.failures.load()));
    signing.reset();
  }
  for (auto& s : services) {
    close(s->reload_fd);
  }
  close(stop_fd);
  if (event_log_fd >= 0) {
    close(event_log_fd);
  }
  log_stopped(totals);
  return totals.ok ? 0 : 1;
}

}  // namespace
}  // namespace ringmta

int main(int argc, char** argv) { return ringmta::run(argc, argv); }
