// engine/daemon/shard_threads.h — the shards: one Shard per CPU, each given
// its listeners, its services, the segments recovery found and its share of
// the recovered messages, then run on a thread pinned to its CPU.
//
//   Shards shards;
//   make_shards(shards, config, listeners, &mesh, stop_fd, report, recovered, event_log_fd, services);
//   start_shards(shards, cpus, stop_fd);
//   ... signal stop_fd ...
//   ShardTotals t = join_shards(shards);
#pragma once

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/config.h"
#include "engine/daemon/listeners.h"
#include "engine/shard.h"
#include "engine/store/recovered_spool.h"
#include "spool/recovery.h"

namespace ringmta {

// Shards: the shard objects, their threads and what each run() returned.
// A shard's thread uses its entries, so a Shards outlives join_shards.
struct Shards {
  std::vector<std::unique_ptr<Shard>> objs;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results;
};

// make_shards builds one shard per entry of services, with listeners.fds of
// the same index. Unless --hold, the recovered messages are spread over the
// shards, metadata only (each shard reads the content back through its own
// ring, under its memory budget); report.messages is emptied either way.
void make_shards(Shards& out, const Config& config, const ShardListeners& listeners, Mesh* mesh,
                 int stop_fd, spool::RecoveryReport& report, RecoveredSpool* recovered, int event_log_fd,
                 std::vector<std::unique_ptr<ShardServices>>& services);

// start_shards runs shard i on a thread pinned to cpus[i % cpus.size()].
// A shard that fails stops the daemon (stop_fd and SIGTERM) rather than let
// it run half-working.
void start_shards(Shards& shards, const std::vector<int>& cpus, int stop_fd);

// ShardTotals: the shards' counters added up, for the last log line.
struct ShardTotals {
  uint64_t messages = 0;
  uint64_t connections = 0;
  uint64_t batches = 0;
  uint64_t batch_records = 0;
  uint64_t sync_us = 0;
  bool ok = true;  // every shard's run() succeeded
};

// join_shards waits for every shard thread and adds up their counters.
ShardTotals join_shards(Shards& shards);

// log_stopped is the daemon's last log line.
void log_stopped(const ShardTotals& t);

}  // namespace ringmta
