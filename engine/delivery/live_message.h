// engine/delivery/live_message.h — a message its origin shard is
// delivering: where its record lies in the spool, where each recipient stands, and its
// content only while it is needed (an attempt, a copy being written).
//
// A deferred message keeps no content in memory: it is read back from its
// record (engine/store/content_loader.cc) when its retry is due. What stays
// is this struct, its recipients' states, a slot in the MessageTable and
// one entry in the retry heap (engine/delivery/retry_queue.h);
// tests/engine/delivery/live_message_test.cc measures it (the design
// target is under 200 bytes for a one-recipient message).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "engine/delivery/delivery_job.h"
#include "engine/store/spool_ref.h"
#include "proto/server_session.h"
#include "spool/record.h"

namespace ringmta {

struct RcptState {
  spool::RcptStatus status = spool::RcptStatus::kPending;
  uint16_t attempts = 0;  // (a retry a minute for 45 days would not fill it)
  // The recipient's domain in the MessageTable's DomainIds (domain_ids.h),
  // DomainIds::kNone once final. Fits beside the two above: 24 bytes.
  uint32_t domain = 0;
  absl::Time next_retry = absl::InfinitePast();
};

// QueueIdKey keeps a queue id without a heap allocation (ids are 16
// characters; a longer one keeps its first 16 and its length), to check
// that a record read back is the message it should be.
class QueueIdKey {
 public:
  QueueIdKey() = default;
  explicit QueueIdKey(std::string_view id) : _len(static_cast<uint8_t>(std::min<size_t>(id.size(), 255))) {
    id.copy(_chars.data(), std::min(id.size(), _chars.size()));
  }
  bool matches(std::string_view id) const {
    return id.size() == _len && id.substr(0, _chars.size()) == prefix();
  }
  std::string_view prefix() const { return std::string_view(_chars.data(), std::min<size_t>(_len, _chars.size())); }

 private:
  std::array<char, 16> _chars{};
  uint8_t _len = 0;
};

struct LiveMessage {
  std::unique_ptr<proto::CompletedMessage> msg;  // the content; null when metadata-only
  absl::InlinedVector<RcptState, 1> rcpts;       // parallel to the envelope's recipients
  std::unique_ptr<std::vector<RcptOutcome>> bounced;  // collected until the DSN is sent
  SpoolRef record;  // the record this message is counted by (its "home")
  SpoolRef copy;    // a copy written forward (compaction, adoption), once placed
  // The last record written for this message (state, copy, its DSN): it
  // counts as final only once that one is durable.
  uint64_t last_ticket = 0;
  uint32_t jobs_out = 0;  // jobs whose results have not come back
  uint32_t copy_seq = 0;  // tells a stale copy's completions from the current one's
  QueueIdKey id;          // (fields ordered so that no padding creeps in)
  bool is_dsn = false;    // a bounce we generated (never bounced itself)
  bool loading = false;   // a read of its record is in flight
  bool load_queued = false;    // waits in the load queue (memory budget)
  bool want_dispatch = false;  // an attempt waits for the content
  bool want_copy = false;      // a copy forward waits for the content
  bool copying = false;        // a copy is written, not yet durable

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
