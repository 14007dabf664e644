// engine/daemon/spool_start.h — the spool at start: take its lock (one
// daemon per spool), then recover it (scan every shard directory, cut torn
// tails, list the messages not yet final), logging what recovery found.
//
//   absl::StatusOr<StartSpool> sp = open_spool(config);
//   ... sp->report.messages go to the shards; sp->lock is held until exit
#pragma once

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "spool/recovery.h"
#include "spool/spool_lock.h"

namespace ringmta {

struct StartSpool {
  spool::SpoolLock lock;
  spool::RecoveryReport report;
};

// open_spool locks and recovers --spool; the error says which step failed.
absl::StatusOr<StartSpool> open_spool(const Config& config);

}  // namespace ringmta
