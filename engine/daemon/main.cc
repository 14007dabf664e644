// engine/daemon/main.cc — the ringmta daemon: read the settings and the secrets,
// take the spool lock, recover the spool, open the listeners, drop root,
// start one pinned shard thread per CPU, then wait for signals: SIGHUP
// reloads the TLS certificate and the AUTH users, SIGTERM/SIGINT stop.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "engine/auth/auth_service.h"
#include "engine/auth/auth_users.h"
#include "engine/inbound/client_limits.h"
#include "engine/config/config.h"
#include "engine/runtime/listener.h"
#include "engine/runtime/log.h"
#include "engine/daemon/privileges.h"
#include "engine/store/recovered_spool.h"
#include "engine/shard.h"
#include "engine/tls/tls_context.h"
#include "engine/runtime/user_data.h"
#include "spool/recovery.h"
#include "spool/spool_lock.h"

namespace ringmta {
namespace {

std::vector<int> usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) {
        cpus.push_back(i);
      }
    }
  }
  if (cpus.empty()) {
    cpus.push_back(0);
  }
  return cpus;
}

// open_listeners opens shards × addresses sockets. With port 0 the first
// socket's kernel-chosen port is reused for the others, so every shard
// listens on the same address.
absl::StatusOr<std::vector<std::vector<int>>> open_listeners(const std::vector<std::string>& addrs,
                                                             bool may_skip, unsigned shards) {
  std::vector<std::vector<int>> fds(shards);
  for (const std::string& text : addrs) {
    absl::StatusOr<Endpoint> ep = parse_endpoint(text);
    if (!ep.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--listen: ", ep.status().message()));
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
        log_warn("not listening on %s: %s", text, failed.message());
        continue;
      }
      return failed;
    }
    int port = ep->addr.ss_family == AF_INET
                   ? ntohs(reinterpret_cast<sockaddr_in*>(&ep->addr)->sin_port)
                   : ntohs(reinterpret_cast<sockaddr_in6*>(&ep->addr)->sin6_port);
    log_info("listening on %s (port %d, %u shards)", text, port, shards);
    for (unsigned s = 0; s < shards; ++s) {
      fds[s].push_back(opened[s]);
    }
  }
  return fds;
}

// tls_contexts builds one server context per shard (wolfSSL contexts are
// not shared between threads); the error names the file.
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

// raise_fd_limit lifts the soft open-file limit to the hard one: every
// connection is a descriptor, and the usual soft limit (1024) is far below
// what one shard serves.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// drop_root gives the spool and the event log to --user and becomes it.
// Not root: nothing to drop. No such user: a warning, and root it stays.
absl::Status drop_root(const Config& config) {
  if (geteuid() != 0) {
    return absl::OkStatus();
  }
  std::optional<RunAs> who = lookup_user(config.user);
  if (!who) {
    log_warn("user '%s' does not exist: running as root. Create it (tools/setup.sh does: "
             "useradd --system --no-create-home --shell /usr/sbin/nologin %s) or choose one with --user",
             config.user, config.user);
    return absl::OkStatus();
  }
  if (who->uid == 0) {
    log_warn("--user %s is root: running with every privilege", config.user);
    return absl::OkStatus();
  }
  std::vector<std::string> files;
  if (!config.event_log.empty()) {
    files.push_back(config.event_log);
  }
  absl::Status s = give_files(*who, {config.spool_dir}, files);
  if (s.ok()) {
    s = become(*who);
  }
  if (s.ok() && access(config.spool_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the spool ", config.spool_dir, " is out of reach of user ", config.user,
        " (a parent directory is closed to it): open the parents with chmod o+x, or choose another --spool"));
  }
  if (s.ok()) {
    log_info("running as user %s (uid %u)", who->name, static_cast<unsigned>(who->uid));
  }
  return s;
}

// reload is SIGHUP: a fresh TLS context for every shard (taken by each on
// its own thread) and a fresh AUTH user list. Files are read as --user now:
// a key only root can read cannot be reloaded, and the old one stays.
void reload(const Config& config, std::vector<std::unique_ptr<ShardServices>>& services, AuthService* auth) {
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
  if (auth != nullptr) {
    absl::StatusOr<AuthUsers> users = AuthUsers::load(config.auth_users);
    if (!users.ok()) {
      log_error("SIGHUP: %s (the users in use stay)", users.status().message());
    } else {
      log_info("SIGHUP: %zu AUTH users loaded from %s", users->size(), config.auth_users);
      auth->replace_users(std::move(*users));
    }
  }
}

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

  // Signals go to this thread only, through sigwait; shard threads inherit
  // the mask and are never interrupted.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

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

  absl::StatusOr<spool::SpoolLock> lock = spool::SpoolLock::acquire(config.spool_dir);
  if (!lock.ok()) {
    log_error("%s", lock.status().message());
    return 1;
  }
  absl::StatusOr<spool::RecoveryReport> report =
      spool::recover(config.spool_dir, spool::RecoverMode::kRepair);
  if (!report.ok()) {
    log_error("spool recovery failed: %s", report.status().message());
    return 1;
  }
  log_info("recovery: %llu segments, %llu records, %zu messages not yet final, %zu torn tails cut",
           static_cast<unsigned long long>(report->segments_scanned),
           static_cast<unsigned long long>(report->records), report->messages.size(),
           report->torn_tails.size());
  for (const spool::TornTail& cut : report->torn_tails) {
    log_warn("recovery: cut torn tail of %s at offset %llu (%llu bytes: %s)", cut.segment_path,
             static_cast<unsigned long long>(cut.offset), static_cast<unsigned long long>(cut.bytes),
             cut.reason);
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
  std::vector<std::unique_ptr<ShardServices>> services;
  for (unsigned i = 0; i < shards; ++i) {
    auto s = std::make_unique<ShardServices>();
    s->limits = &limits;
    if (!contexts->empty()) {
      s->tls_server = std::move((*contexts)[i]);
    }
    s->reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    services.push_back(std::move(s));
  }
  absl::StatusOr<std::vector<std::vector<int>>> listeners =
      open_listeners(config.listen, config.listen_is_default, shards);
  if (!listeners.ok()) {
    log_error("%s", listeners.status().message());
    return 1;
  }
  absl::StatusOr<std::vector<std::vector<int>>> tls_listeners =
      open_listeners(config.listen_tls, false, shards);
  if (!tls_listeners.ok()) {
    log_error("%s", tls_listeners.status().message());
    return 1;
  }
  std::vector<bool> listen_tls((*listeners)[0].size(), false);
  listen_tls.resize(listen_tls.size() + (*tls_listeners)[0].size(), true);
  for (unsigned i = 0; i < shards; ++i) {
    (*listeners)[i].insert((*listeners)[i].end(), (*tls_listeners)[i].begin(), (*tls_listeners)[i].end());
  }
  if (listen_tls.empty()) {
    log_error("no listen address could be opened");
    return 1;
  }
  int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    log_error("eventfd: %s", strerror(errno));
    return 1;
  }

  int event_log_fd = -1;
  if (!config.event_log.empty()) {
    event_log_fd = open(config.event_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
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
  absl::StatusOr<std::unique_ptr<RecoveredSpool>> recovered = RecoveredSpool::open(config.spool_dir, *report);
  if (!recovered.ok()) {
    log_error("spool recovery failed: %s", recovered.status().message());
    return 1;
  }
  Mesh mesh(shards, 4096, encode(Op::kWake));
  std::vector<std::unique_ptr<Shard>> shard_objs;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(shards);
  for (unsigned i = 0; i < shards; ++i) {
    shard_objs.push_back(std::make_unique<Shard>(i, config, (*listeners)[i], listen_tls, &mesh, stop_fd,
                                                 report->max_queue_id, event_log_fd, services[i].get()));
    shard_objs.back()->set_recovered(recovered->get());
  }
  if (!config.hold) {
    // Recovered messages are spread over the shards; each becomes that
    // shard's to deliver. Only their metadata is handed over: each shard
    // reads the content back through its own ring, under its memory budget.
    size_t n = 0;
    for (const spool::RecoveredMessage& r : report->messages) {
      shard_objs[n++ % shards]->adopt(r);
    }
  }
  report->messages = {};  // the shards keep what they need
  for (unsigned i = 0; i < shards; ++i) {
    threads.emplace_back([&, i] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpus[i % cpus.size()], &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      results[i] = shard_objs[i]->run();
      tls_thread_exit();  // wolfSSL's per-thread caches
      if (!results[i].ok()) {
        log_error("shard %u: %s", i, results[i].message());
        // One failed shard stops the daemon rather than run half-working.
        uint64_t one = 1;
        [[maybe_unused]] ssize_t w = write(stop_fd, &one, sizeof one);
        kill(getpid(), SIGTERM);
      }
    });
  }
  log_info("ringmta %s started: %u shards, spool %s, hostname %s", RINGMTA_VERSION, shards,
           config.spool_dir, config.hostname);

  int sig = 0;
  while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
    reload(config, services, auth.get());
  }
  log_info("received %s: stopping (grace %llus for messages in transfer)", strsignal(sig),
           static_cast<unsigned long long>(config.shutdown_grace_s));
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(stop_fd, &one, sizeof one);
  for (std::thread& t : threads) {
    t.join();
  }
  uint64_t messages = 0;
  uint64_t connections = 0;
  uint64_t batches = 0;
  uint64_t batch_records = 0;
  uint64_t sync_us = 0;
  bool ok = true;
  for (unsigned i = 0; i < shards; ++i) {
    messages += shard_objs[i]->stats().messages;
    connections += shard_objs[i]->stats().connections;
    batches += shard_objs[i]->stats().batches;
    batch_records += shard_objs[i]->stats().batch_records;
    sync_us += shard_objs[i]->stats().sync_us;
    ok = ok && results[i].ok();
  }
  shard_objs.clear();
  auth.reset();
  for (auto& s : services) {
    close(s->reload_fd);
  }
  close(stop_fd);
  if (event_log_fd >= 0) {
    close(event_log_fd);
  }
  log_info("stopped: %llu messages spooled over %llu connections; %llu spool syncs, %.1f records "
           "and %.0f us each on average",
           static_cast<unsigned long long>(messages), static_cast<unsigned long long>(connections),
           static_cast<unsigned long long>(batches),
           batches ? static_cast<double>(batch_records) / batches : 0.0,
           batches ? static_cast<double>(sync_us) / batches : 0.0);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace ringmta

int main(int argc, char** argv) { return ringmta::run(argc, argv); }
