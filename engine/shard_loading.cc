// engine/shard_loading.cc — message content in memory, under a budget.
//
// A message keeps its content in memory only while something needs it: an
// attempt in flight, or a copy being written forward. A new message keeps
// the content it arrived with for its first attempt if the shard's budget
// (--memory-budget, the content of every message held plus reads in
// flight) allows; otherwise, and whenever it is deferred, it keeps only
// its metadata (engine/delivery/live_message.h) and its record is read back when
// its turn comes: an IORING_OP_READ on the segment's fd, on this shard's
// ring (never a blocking read here), checked by the record's CRC and its
// queue id before use.
//
// Reads wait in a FIFO queue while the budget is spent, so a backlog (a
// restart with a big spool, a slow destination) holds at most about the
// budget in memory; one message is always allowed, however big.
#include <liburing.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "engine/shard.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

// Reads in flight per shard: enough to keep the disk busy, few enough that
// the ring and io-wq stay free for the spool's own writes.
constexpr uint32_t kMaxReads = 32;

uint64_t content_size(const proto::CompletedMessage& m) {
  return m.trace_headers.size() + m.body.size();
}

}  // namespace

bool Shard::budget_allows(uint64_t bytes) const {
  return _body_bytes == 0 || _body_bytes + bytes <= _config.memory_budget;
}

void Shard::hold_bytes(uint64_t bytes) {
  _body_bytes += bytes;
  _stats.peak_body_bytes = std::max(_stats.peak_body_bytes, _body_bytes);
}

int Shard::read_fd(const SpoolRef& ref) const {
  if (ref.recovered()) {
    return _recovered != nullptr ? _recovered->fd(ref.index()) : -1;
  }
  return ref.seg < _segs.size() ? _segs[ref.seg].fd : -1;
}

void Shard::request_load(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  if (lm.msg || lm.loading || lm.load_queued) {
    return;
  }
  lm.load_queued = true;
  _load_queue.push_back(handle);
}

void Shard::pump_loads() {
  while (!_stopping && !_load_queue.empty() && _reads_in_flight < kMaxReads) {
    const uint64_t handle = _load_queue.front();
    auto it = _live.find(handle);
    if (it == _live.end()) {
      _load_queue.pop_front();
      continue;
    }
    LiveMessage& lm = *it->second;
    if (!budget_allows(lm.record.size)) {
      return;  // in order: the front waits for memory, the rest behind it
    }
    _load_queue.pop_front();
    lm.load_queued = false;
    const int fd = read_fd(lm.record);
    if (fd < 0 || !lm.record.valid()) {
      // Segments go only when nothing live is in them, so this is a dup()
      // that failed (no fds left) or a bug.
      load_failed(handle, absl::FailedPreconditionError("no open fd for its segment"));
      continue;
    }
    uint32_t slot;
    if (!_read_free.empty()) {
      slot = _read_free.back();
      _read_free.pop_back();
    } else {
      slot = static_cast<uint32_t>(_reads.size());
      _reads.emplace_back();
    }
    SpoolRead& r = _reads[slot];
    r.handle = handle;
    ++r.gen;
    r.fd = fd;
    r.offset = lm.record.offset;
    r.done = 0;
    r.buf.resize(lm.record.size);
    hold_bytes(lm.record.size);
    lm.loading = true;
    ++_reads_in_flight;
    submit_read(slot);
  }
}

void Shard::submit_read(uint32_t slot) {
  SpoolRead& r = _reads[slot];
  io_uring_sqe* sqe = _ring->sqe();
  // A plain read on a regular file: the kernel hands it to io-wq (or reads
  // the page cache inline), so the shard never waits on the disk.
  io_uring_prep_read(sqe, r.fd, r.buf.data() + r.done, static_cast<unsigned>(r.buf.size() - r.done),
                     r.offset + r.done);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolRead, slot, r.gen));
}

void Shard::on_spool_read(uint32_t slot, uint32_t gen, int res) {
  if (slot >= _reads.size() || _reads[slot].gen != gen || _reads[slot].handle == 0) {
    return;
  }
  SpoolRead& r = _reads[slot];
  if (res > 0 && r.done + static_cast<size_t>(res) < r.buf.size()) {
    r.done += static_cast<size_t>(res);  // a short read: ask for the rest
    submit_read(slot);
    return;
  }
  const uint64_t handle = r.handle;
  r.handle = 0;
  std::string record = std::move(r.buf);
  r.buf = std::string();
  _read_free.push_back(slot);
  --_reads_in_flight;
  _body_bytes -= record.size();
  auto it = _live.find(handle);
  if (it == _live.end()) {
    return;
  }
  LiveMessage& lm = *it->second;
  lm.loading = false;
  absl::Status st;
  if (res < 0) {
    st = absl::ErrnoToStatus(-res, "read");
  } else if (res == 0) {
    st = absl::DataLossError("the segment ends inside the record");
  } else {
    st = take_loaded(lm, std::move(record));
  }
  if (!st.ok()) {
    load_failed(handle, st);
    return;
  }
  ++_stats.loads;
  on_loaded(handle);
}

// load_failed: the message stays metadata-only and in the spool; a due
// attempt is tried again after the shortest retry wait (a corrupt record
// stays stuck, and says so in the log each time).
void Shard::load_failed(uint64_t handle, const absl::Status& why) {
  LiveMessage& lm = *_live.at(handle);
  ++_stats.load_failures;
  log_error("shard %u: %s: reading its record back (offset %llu, %u bytes) failed: %s; trying "
            "again in %llus",
            _id, std::string(lm.id.prefix()), static_cast<unsigned long long>(lm.record.offset),
            lm.record.size, why.message(), static_cast<unsigned long long>(_config.retry_min_s));
  if (lm.want_dispatch) {
    lm.want_dispatch = false;
    push_retry(absl::Now() + absl::Seconds(static_cast<int64_t>(_config.retry_min_s)), handle);
  }
}

// take_loaded checks a record read back and makes it the message's content:
// the checksum says the bytes are what was written, the queue id that they
// are this message's.
absl::Status Shard::take_loaded(LiveMessage& lm, std::string record) {
  spool::DecodedRecord d = spool::decode_record(record);
  if (d.status != spool::DecodeStatus::kRecord) {
    return absl::DataLossError(d.status == spool::DecodeStatus::kCorrupt ? std::string(d.error)
                                                                         : "incomplete record");
  }
  if (d.type != spool::RecordType::kMessage || d.size != record.size()) {
    return absl::DataLossError("not a message record of the expected size");
  }
  if (!lm.id.matches(d.message.queue_id)) {
    return absl::DataLossError(absl::StrCat("the record holds message ", d.message.queue_id));
  }
  auto m = std::make_unique<proto::CompletedMessage>();
  m->queue_id = std::move(d.message.queue_id);
  m->arrival = d.message.arrival;
  m->envelope = std::move(d.message.envelope);
  // The content is the stored trace headers and body as one piece: sent
  // as they are, they are the bytes that were accepted. Cutting the head
  // off the buffer keeps one copy of it in memory, not two.
  const size_t off = d.content_offset;
  record.erase(0, off);
  m->body = std::move(record);
  hold_bytes(content_size(*m));
  lm.msg = std::move(m);
  return absl::OkStatus();
}

void Shard::on_loaded(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  if (lm.want_copy) {
    append_copy(handle);
  }
  if (lm.want_dispatch) {
    lm.want_dispatch = false;
    dispatch_now(handle);
    return;
  }
  if (lm.jobs_out == 0) {
    drop_body(lm);
  }
}

// drop_body makes a message metadata-only. If a copy of it was appended
// and may still be unwritten, the writer points into the content: it is
// held until that record settles, and counted against the budget until then.
void Shard::drop_body(LiveMessage& lm) {
  if (!lm.msg || !lm.record.valid()) {
    return;  // no content, or no record to read it back from (keep it)
  }
  const uint64_t bytes = content_size(*lm.msg);
  if (lm.last_ticket > settled_through()) {
    _held.push_back(HeldBody{lm.last_ticket, std::move(lm.msg), bytes});
    return;
  }
  lm.msg.reset();
  _body_bytes -= bytes;
}

void Shard::release_held(uint64_t through) {
  std::erase_if(_held, [&](HeldBody& h) {
    if (h.ticket > through) {
      return false;
    }
    _body_bytes -= h.bytes;
    return true;
  });
}

}  // namespace ringmta
