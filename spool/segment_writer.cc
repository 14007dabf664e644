// The writer is a state machine over one batch at a time:
//
//   kIdle --start_batch--> kWriting --write done, all bytes--> kSyncing
//                            |  ^ short write: kResubmit                  |
//                            +--+                    sync ok: durable ----+--> kIdle
//   a write or sync error fails the batch (failed_through) and moves to a
//   fresh segment --> kIdle
//
// A sync completion of -ECANCELED while no sync is awaited is the linked
// sync that the kernel cancelled after a short or failed write: ignored.
//
// Engine note: a ticket that failed may later be <= durable_through() (a
// later batch succeeded), so fail the waiting tickets <= failed_through()
// right when on_write_done/on_sync_done return an error.
//
// A message's record must stay below kMaxPayload (1 GiB): the engine's
// message size limit is what guarantees it.
#include "spool/segment_writer.h"

#include <algorithm>

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spool/crc32c.h"
#include "spool/errors.h"
#include "spool/layout.h"
#include "spool/record.h"
#include "spool/segment_file.h"

namespace ringmta::spool {
namespace {

// A pending record: its header, meta and trace headers are copied into
// pending_heads (small); the body is referenced, never copied.
struct Pending {
  uint64_t ticket;
  size_t head_off;
  size_t head_len;
  std::string_view body;
  bool message;
};

enum class State { kIdle, kWriting, kSyncing };

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return std::string(".");
  }
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

}  // namespace

struct SegmentWriter::Impl {
  std::string dir;
  WriterOptions options;
  SegmentFile file;
  uint64_t next_number = 0;   // number for the next segment we create
  uint64_t end = 0;           // file offset after the last byte handed out
  bool need_rotate = false;   // the segment failed: leave it before writing

  std::string pending_heads;
  std::deque<Pending> pending;
  uint64_t next_ticket = 1;

  State state = State::kIdle;
  // flight_heads and flight_iov do not change while a batch is in flight,
  // so the iovecs the engine holds stay valid.
  std::string flight_heads;
  std::vector<iovec> flight_iov;
  size_t iov_pos = 0;          // first iovec not wholly written
  uint64_t flight_offset = 0;  // file offset of the first unwritten byte
  uint64_t flight_left = 0;    // bytes of the batch not yet written
  uint64_t flight_last = 0;    // last ticket in the batch
  std::vector<Placement> flight_places;   // message records of the batch in flight
  std::vector<Placement> durable_places;  // ... of the last batch that became durable

  uint64_t durable = 0;
  uint64_t failed = 0;

  absl::Status rotate();
  absl::Status fail_batch(absl::Status why);
  Batch current() const {
    return Batch{file.fd(), flight_offset, std::span<const iovec>(flight_iov).subspan(iov_pos)};
  }
};

absl::Status SegmentWriter::Impl::rotate() {
  file.close();
  end = 0;
  absl::StatusOr<SegmentFile> f = SegmentFile::create(dir, next_number, options.segment_bytes);
  if (!f.ok()) {
    need_rotate = true;
    return f.status();
  }
  file = std::move(*f);
  next_number = file.number() + 1;
  need_rotate = false;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Impl::fail_batch(absl::Status why) {
  failed = flight_last;
  state = State::kIdle;
  flight_iov.clear();
  flight_places.clear();
  flight_left = 0;
  // What reached the failed segment is unknown; never write there again.
  absl::Status rot = rotate();
  if (!rot.ok()) {
    return absl::Status(why.code(), absl::StrCat(why.message(), "; then ", rot.message()));
  }
  return why;
}

absl::StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::open(const std::string& shard_dir,
                                                                   WriterOptions options) {
  SPOOL_RETURN_IF_ERROR(make_dirs(shard_dir, 0700));
  // The shard directory's own entry must be durable too.
  SPOOL_RETURN_IF_ERROR(sync_dir(parent_dir(shard_dir)));
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> segs = list_segments(shard_dir);
  if (!segs.ok()) {
    return segs.status();
  }
  std::unique_ptr<SegmentWriter> w(new SegmentWriter());
  w->_impl = std::make_unique<Impl>();
  Impl& s = *w->_impl;
  s.dir = shard_dir;
  s.options = options;
  if (s.options.max_batch_records == 0) {
    s.options.max_batch_records = 1;
  }
  s.next_number = std::max(segs->empty() ? 0 : segs->back().first, options.min_number) + 1;
  SPOOL_RETURN_IF_ERROR(s.rotate());
  return w;
}

SegmentWriter::~SegmentWriter() {
  if (_impl && _impl->file.fd() >= 0 && _impl->end < _impl->options.segment_bytes) {
    _impl->file.trim(_impl->end);
  }
}

uint64_t SegmentWriter::append_message(const MessageRecord& rec) {
  Impl& s = *_impl;
  static const proto::Envelope kEmpty;
  const proto::Envelope& env = rec.envelope != nullptr ? *rec.envelope : kEmpty;
  const size_t off = s.pending_heads.size();
  s.pending_heads.append(kHeaderSize, '\0');
  const uint64_t content = rec.trace_headers.size() + rec.body.size();
  encode_message_meta(rec.queue_id, rec.arrival, env, content, &s.pending_heads);
  s.pending_heads.append(rec.trace_headers);
  const size_t head_len = s.pending_heads.size() - off;
  uint32_t crc = record_crc_seed(RecordType::kMessage);
  crc = crc32c_extend(crc, s.pending_heads.data() + off + kHeaderSize, head_len - kHeaderSize);
  crc = crc32c_extend(crc, rec.body);
  // The engine's message size limit keeps this far below kMaxPayload.
  const auto payload = static_cast<uint32_t>(head_len - kHeaderSize + rec.body.size());
  encode_header(RecordType::kMessage, payload, crc, s.pending_heads.data() + off);
  const uint64_t ticket = s.next_ticket++;
  s.pending.push_back(Pending{ticket, off, head_len, rec.body, true});
  return ticket;
}

uint64_t SegmentWriter::append_state(const RecipientStateRecord& rec) {
  Impl& s = *_impl;
  const size_t off = s.pending_heads.size();
  s.pending_heads.append(encode_recipient_state_record(rec));
  const uint64_t ticket = s.next_ticket++;
  s.pending.push_back(
      Pending{ticket, off, s.pending_heads.size() - off, std::string_view(), false});
  return ticket;
}

bool SegmentWriter::can_start_batch() const {
  return _impl->state == State::kIdle && !_impl->pending.empty();
}

bool SegmentWriter::in_flight() const { return _impl->state != State::kIdle; }

SegmentWriter::Batch SegmentWriter::start_batch() {
  Impl& s = *_impl;
  if (!can_start_batch()) {
    return Batch{};
  }
  // Rotation happens only here, between batches. If a size rotation fails
  // the current segment stays usable; after a failure there is none (fd -1),
  // the write fails with EBADF and the next batch tries again.
  if (s.need_rotate || (s.file.fd() >= 0 && s.end >= s.options.segment_bytes)) {
    (void)s.rotate();
  }
  size_t count = 0;
  size_t iovs = 0;
  size_t cut = 0;  // bytes of pending_heads the batch takes
  for (const Pending& p : s.pending) {
    const size_t need = p.body.empty() ? 1 : 2;
    if (count == s.options.max_batch_records || iovs + need > IOV_MAX) {
      break;
    }
    ++count;
    iovs += need;
    cut = p.head_off + p.head_len;
  }
  s.flight_heads.assign(s.pending_heads, 0, cut);
  s.pending_heads.erase(0, cut);
  s.flight_iov.clear();
  s.flight_places.clear();
  s.durable_places.clear();
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    const Pending& p = s.pending.front();
    char* head = s.flight_heads.data() + p.head_off;
    iovec* last = s.flight_iov.empty() ? nullptr : &s.flight_iov.back();
    // Heads of body-less records sit next to each other: one iovec.
    if (last != nullptr && static_cast<char*>(last->iov_base) + last->iov_len == head) {
      last->iov_len += p.head_len;
    } else {
      s.flight_iov.push_back(iovec{head, p.head_len});
    }
    if (!p.body.empty()) {
      s.flight_iov.push_back(iovec{const_cast<char*>(p.body.data()), p.body.size()});
    }
    if (p.message) {
      s.flight_places.push_back(
          Placement{p.ticket, s.file.number(), s.end + total, p.head_len + p.body.size()});
    }
    total += p.head_len + p.body.size();
    s.flight_last = p.ticket;
    s.pending.pop_front();
  }
  for (Pending& p : s.pending) {
    p.head_off -= cut;
  }
  s.iov_pos = 0;
  s.flight_offset = s.end;
  s.flight_left = total;
  s.end += total;
  s.state = State::kWriting;
  return s.current();
}

absl::StatusOr<SegmentWriter::WriteResult> SegmentWriter::on_write_done(int res) {
  Impl& s = *_impl;
  if (s.state != State::kWriting) {
    return absl::FailedPreconditionError(
        absl::StrCat("writev ", s.file.path(), ": completion with no write in flight"));
  }
  if (res < 0) {
    return s.fail_batch(errno_status(-res, "writev", s.file.path()));
  }
  if (res == 0 || static_cast<uint64_t>(res) > s.flight_left) {
    return s.fail_batch(absl::DataLossError(absl::StrCat(
        "writev ", s.file.path(), ": wrote ", res, " of ", s.flight_left, " bytes")));
  }
  auto n = static_cast<uint64_t>(res);
  s.flight_left -= n;
  s.flight_offset += n;
  while (n > 0) {
    iovec& v = s.flight_iov[s.iov_pos];
    if (n >= v.iov_len) {
      n -= v.iov_len;
      ++s.iov_pos;
    } else {
      v.iov_base = static_cast<char*>(v.iov_base) + n;
      v.iov_len -= n;
      n = 0;
    }
  }
  if (s.flight_left > 0) {
    return WriteResult::kResubmit;
  }
  s.state = State::kSyncing;
  return WriteResult::kWaitSync;
}

SegmentWriter::Batch SegmentWriter::resume_batch() {
  if (_impl->state != State::kWriting) {
    return Batch{};
  }
  return _impl->current();
}

absl::Status SegmentWriter::on_sync_done(int res) {
  Impl& s = *_impl;
  if (s.state != State::kSyncing) {
    if (res == -ECANCELED) {
      return absl::OkStatus();  // the linked sync of a short or failed write
    }
    return absl::FailedPreconditionError(
        absl::StrCat("fdatasync ", s.file.path(), ": completion with no sync in flight"));
  }
  if (res < 0) {
    return s.fail_batch(errno_status(-res, "fdatasync", s.file.path()));
  }
  s.durable = s.flight_last;
  s.durable_places.swap(s.flight_places);
  s.flight_places.clear();
  s.state = State::kIdle;
  return absl::OkStatus();
}

uint64_t SegmentWriter::durable_through() const { return _impl->durable; }
uint64_t SegmentWriter::failed_through() const { return _impl->failed; }
std::span<const Placement> SegmentWriter::durable_messages() const {
  return _impl->durable_places;
}
const std::string& SegmentWriter::segment_path() const { return _impl->file.path(); }
uint64_t SegmentWriter::segment_number() const { return _impl->file.number(); }
int SegmentWriter::segment_fd() const { return _impl->file.fd(); }

}  // namespace ringmta::spool
