// engine/daemon/spool_start.cc — locking and recovering the spool at start
// (spool_start.h).
#include "engine/daemon/spool_start.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"

namespace ringmta {

absl::StatusOr<StartSpool> open_spool(const Config& config) {
  absl::StatusOr<spool::SpoolLock> lock = spool::SpoolLock::acquire(config.spool_dir);
  if (!lock.ok()) {
    return lock.status();
  }
  absl::StatusOr<spool::RecoveryReport> report =
      spool::recover(config.spool_dir, spool::RecoverMode::kRepair);
  if (!report.ok()) {
    return absl::Status(report.status().code(),
                        absl::StrCat("spool recovery failed: ", report.status().message()));
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
  return StartSpool{std::move(*lock), std::move(*report)};
}

}  // namespace ringmta
