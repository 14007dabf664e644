// spool/segment_writer.h — one shard's append-only spool segment, with group
// commit, as a state machine: it decides what to write and when a record is
// durable; engine/ performs the write and the fdatasync through io_uring.
//
//   auto w = SegmentWriter::open("/var/spool/ringmta/shard-0", {});
//   uint64_t t = (*w)->append_message(rec);   // rec's pieces must stay alive
//   if ((*w)->can_start_batch()) {            // nothing in flight, something pending
//     SegmentWriter::Batch b = (*w)->start_batch();
//     // submit writev(b.fd, b.iov, b.offset) linked (IOSQE_IO_LINK) to
//     // fdatasync(b.fd), or one writev with RWF_DSYNC (the engine's choice:
//     // one operation; then on_sync_done(0) follows its write completion)
//   }
//   on the write's completion:  (*w)->on_write_done(res)  -> kResubmit / kWaitSync / error
//   on the sync's completion:   (*w)->on_sync_done(res)   -> durable_through()
//
// Group commit: records appended while a batch is in flight wait for the
// next batch, which covers all of them with one sync. A record is durable
// (and its 250 may be sent) once durable_through() >= its ticket.
//
// Where records land: after a batch is durable, durable_messages() tells
// the segment and offset of each message record in it, so the engine can
// drop a body and read it back later (and count what each segment holds).
// A segment changes only in start_batch() (rotation) or after a failure.
//
// A short write is resumed: on_write_done() returns kResubmit and
// resume_batch() gives the rest (the linked sync was cancelled by the
// kernel, so the caller links a new one). Records in one batch stay in
// append order on disk.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/envelope.h"
#include "spool/record.h"

namespace ringmta::spool {

// MessageRecord is the message as stored. The string_views must stay valid
// until durable_through() reaches the ticket append_message returned.
struct MessageRecord {
  std::string_view queue_id;
  absl::Time arrival;
  const proto::Envelope* envelope = nullptr;
  std::string_view trace_headers;
  std::string_view body;
};

// Placement says where a message record went: segment number, offset of
// the record's header in it, and the record's whole size.
struct Placement {
  uint64_t ticket = 0;
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct WriterOptions {
  uint64_t segment_bytes = 256ull << 20;  // rotate to a new segment past this
  size_t max_batch_records = 512;         // bounded by IOV_MAX per writev
  // min_number: the first segment this writer makes is numbered above both
  // what the directory holds now and this (RecoveryReport::highest_segment):
  // a recovered segment another thread deletes meanwhile must not lend its
  // name to a new one.
  uint64_t min_number = 0;
};

class SegmentWriter {
 public:
  enum class WriteResult { kWaitSync, kResubmit };
  struct Batch {
    int fd = -1;
    uint64_t offset = 0;
    std::span<const iovec> iov;
  };

  // open creates the shard directory if needed and starts a new segment
  // file in it (earlier segments are never appended to: recovery owns them).
  static absl::StatusOr<std::unique_ptr<SegmentWriter>> open(
      const std::string& shard_dir, WriterOptions options);
  ~SegmentWriter();

  // append_message queues a record and returns its ticket (1, 2, 3, ...).
  uint64_t append_message(const MessageRecord& rec);

  // append_state queues a recipient state record (delivered, deferred,
  // bounced). It rides in the next batch like a message; callers need not
  // wait for it: losing one in a crash only causes a redelivery.
  uint64_t append_state(const RecipientStateRecord& rec);

  bool can_start_batch() const;  // something pending and no batch in flight
  bool in_flight() const;
  // start_batch moves pending records (up to max_batch_records) in flight.
  Batch start_batch();
  // on_write_done takes the write's cqe->res (bytes, or -errno).
  absl::StatusOr<WriteResult> on_write_done(int res);
  // resume_batch: what is still unwritten after a short write.
  Batch resume_batch();
  // on_sync_done takes the sync's cqe->res; on success the batch's records
  // become durable. An error fails the batch (its tickets are returned by
  // failed_through()) and the writer moves to a fresh segment.
  absl::Status on_sync_done(int res);

  uint64_t durable_through() const;
  uint64_t failed_through() const;
  // durable_messages: the message records of the batch that became durable
  // last, in ticket order (valid until the next start_batch).
  std::span<const Placement> durable_messages() const;

  // The segment being written: its path, number and fd (read-write; -1
  // after a failed rotation, until the next batch rotates again).
  const std::string& segment_path() const;
  uint64_t segment_number() const;
  int segment_fd() const;

 private:
  SegmentWriter() = default;
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

}  // namespace ringmta::spool
