// engine/daemon/shard_threads.cc — building, starting and joining the shards
// (shard_threads.h).
#include "engine/daemon/shard_threads.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "engine/runtime/log.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

void make_shards(Shards& out, const Config& config, const ShardListeners& listeners, Mesh* mesh,
                 int stop_fd, spool::RecoveryReport& report, RecoveredSpool* recovered, int event_log_fd,
                 std::vector<std::unique_ptr<ShardServices>>& services) {
  const auto shards = static_cast<unsigned>(services.size());
  out.results.resize(shards);
  for (unsigned i = 0; i < shards; ++i) {
    StoreStart start{report.max_queue_id, 0};
    if (auto it = report.highest_segment.find(i); it != report.highest_segment.end()) {
      start.highest_segment = it->second;
    }
    out.objs.push_back(std::make_unique<Shard>(i, config, listeners.fds[i], listeners.is_tls,
                                               listeners.admin_fds[i], mesh, stop_fd,
                                               std::move(start), event_log_fd, services[i].get()));
    out.objs.back()->set_recovered(recovered);
  }
  if (!config.hold) {
    // Recovered messages are spread over the shards; each becomes that
    // shard's to deliver. Only their metadata is handed over: each shard
    // reads the content back through its own ring, under its memory budget.
    size_t n = 0;
    for (const spool::RecoveredMessage& r : report.messages) {
      out.objs[n++ % shards]->adopt(r);
    }
  }
  report.messages = {};  // the shards keep what they need
}

void start_shards(Shards& shards, const std::vector<int>& cpus, int stop_fd) {
  for (unsigned i = 0; i < shards.objs.size(); ++i) {
    const int cpu = cpus[i % cpus.size()];
    shards.threads.emplace_back([&shards, i, cpu, stop_fd] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      shards.results[i] = shards.objs[i]->run();
      tls_thread_exit();  // wolfSSL's per-thread caches
      if (!shards.results[i].ok()) {
        log_error("shard %u: %s", i, shards.results[i].message());
        // One failed shard stops the daemon rather than run half-working.
        uint64_t one = 1;
        [[maybe_unused]] ssize_t w = write(stop_fd, &one, sizeof one);
        kill(getpid(), SIGTERM);
      }
    });
  }
}

ShardTotals join_shards(Shards& shards) {
  for (std::thread& t : shards.threads) {
    t.join();
  }
  ShardTotals t;
  for (size_t i = 0; i < shards.objs.size(); ++i) {
    const auto& s = shards.objs[i]->stats();
    t.messages += s.messages;
    t.connections += s.connections;
    t.batches += s.batches;
    t.batch_records += s.batch_records;
    t.sync_us += s.sync_us;
    t.ok = t.ok && shards.results[i].ok();
  }
  return t;
}

void log_stopped(const ShardTotals& t) {
  log_info("stopped: %llu messages spooled over %llu connections; %llu spool syncs, %.1f records "
           "and %.0f us each on average",
           static_cast<unsigned long long>(t.messages), static_cast<unsigned long long>(t.connections),
           static_cast<unsigned long long>(t.batches),
           t.batches ? static_cast<double>(t.batch_records) / t.batches : 0.0,
           t.batches ? static_cast<double>(t.sync_us) / t.batches : 0.0);
}

}  // namespace ringmta
