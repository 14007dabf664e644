// spool/recovery.h — reading the spool back: at engine start (kRepair) and
// in ringmta-spool (kReadOnly).
//
//   auto report = recover("/var/spool/ringmta", RecoverMode::kRepair);
//   for (const TornTail& t : report->torn_tails) log(t.segment_path, t.offset);
//   for (const RecoveredMessage& m : report->messages) requeue(m);
//   std::string content = *read_content(report->messages[0]);
//
// recover scans every shard-N directory under the root (the shard count may
// have changed since the last run) and every segment in each, oldest first.
// A segment ends at a zero header, at the file's end, or at a torn tail: a
// record that runs past the end of the file or fails its checksum. Nothing
// after a torn tail is read; kRepair cuts it off (ftruncate + fsync).
//
// A pending ROOT/retire.list (spool/retire_list.h) names segments already
// deleted as a group: kRepair finishes deleting them before the scan,
// kReadOnly skips them. kReadOnly also skips a segment that disappears
// while it scans (the engine deletes segments whose messages are final).
//
// Recipient state records are merged in an order-independent way, because
// after a shard count change a message's state records may live in another
// shard's directory: a final state (delivered, bounced) beats deferred,
// which beats pending; among deferred ones the most attempts win.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/envelope.h"
#include "spool/record.h"

namespace ringmta::spool {

enum class RecoverMode {
  kRepair,    // the engine at start, holding the SpoolLock: cut torn tails
  kReadOnly,  // tools, also while the engine runs: change nothing
};

// RecoveredMessage is a message with at least one recipient not yet final.
struct RecoveredMessage {
  std::string queue_id;
  absl::Time arrival;
  proto::Envelope envelope;
  uint64_t content_size = 0;  // trace headers + body
  std::string segment_path;
  uint32_t segment = 0;         // index of segment_path in RecoveryReport::segments
  uint64_t record_offset = 0;   // of the whole record in segment_path
  uint64_t record_size = 0;     // header + payload: read it back and check its CRC
  uint64_t content_offset = 0;  // of the content in segment_path
  // One per envelope recipient, in RCPT order; kPending when no state
  // record names it.
  std::vector<RecipientState> rcpt_state;
};

struct TornTail {
  std::string segment_path;
  uint64_t offset = 0;  // where the bad record starts (and the file now ends, in kRepair)
  uint64_t bytes = 0;   // how many bytes followed (and were cut, in kRepair)
  std::string reason;   // "record checksum mismatch", "record runs past the end of the file", ...
};

struct RecoveryReport {
  uint64_t segments_scanned = 0;
  uint64_t records = 0;            // valid records read
  uint64_t message_records = 0;    // of which messages
  uint64_t segments_removed = 0;   // kRepair: segments that held no record
  uint64_t segments_retired = 0;   // kRepair: finished from a pending retire list
  // Every segment left after the scan, in scan order (the engine deletes
  // them as one group once their messages are final or copied forward).
  std::vector<std::string> segments;
  std::vector<TornTail> torn_tails;
  std::vector<RecoveredMessage> messages;  // live ones, by queue id
  std::string max_queue_id;  // highest id seen, live or not: QueueIdGenerator::observe it
  // Per shard directory N, the highest segment number it held at the scan.
  // A new writer numbers above it (WriterOptions::min_number): a pending
  // retire list names recovered segments by path, and a new segment that
  // took such a name could be deleted by the next start's finish_retire.
  std::map<unsigned, uint64_t> highest_segment;
};

// recover reads the spool under spool_root. A root with no shard
// directories is an empty spool; a missing root is an error.
absl::StatusOr<RecoveryReport> recover(const std::string& spool_root, RecoverMode mode);

// read_content reads one recovered message's content (trace headers + body).
absl::StatusOr<std::string> read_content(const RecoveredMessage& message);

// merge_state: the order-independent merge described above (for tests).
RecipientState merge_state(const RecipientState& a, const RecipientState& b);

}  // namespace ringmta::spool
