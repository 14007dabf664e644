// engine/live_message.h — a message its origin shard is delivering: the
// stored message, and where each recipient stands.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "engine/delivery_job.h"
#include "proto/server_session.h"
#include "spool/record.h"

namespace ringmta {

struct RcptState {
  spool::RcptStatus status = spool::RcptStatus::kPending;
  uint32_t attempts = 0;
  absl::Time next_retry = absl::InfinitePast();
};

struct LiveMessage {
  std::unique_ptr<proto::CompletedMessage> msg;
  std::vector<RcptState> rcpts;  // parallel to msg->envelope.recipients
  uint32_t jobs_out = 0;         // jobs whose results have not come back
  std::vector<RcptOutcome> bounced;  // collected until the DSN is sent
  bool is_dsn = false;           // a bounce we generated (never bounced itself)

  bool final() const {
    for (const RcptState& r : rcpts) {
      if (!spool::is_final(r.status)) {
        return false;
      }
    }
    return true;
  }
};

}  // namespace ringmta
