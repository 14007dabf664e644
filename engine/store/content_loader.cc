// engine/store/content_loader.cc — reading message records back through
// the ring under the memory budget, and dropping content no longer needed
// (content_loader.h).
#include "engine/store/content_loader.h"

#include <liburing.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "spool/record.h"

namespace ringmta {
namespace {

// Reads in flight per shard: enough to keep the disk busy, few enough that
// the ring and io-wq stay free for the spool's own writes.
constexpr uint32_t kMaxReads = 32;

uint64_t content_size(const proto::CompletedMessage& m) {
  return m.trace_headers.size() + m.body.size();
}

}  // namespace

bool ContentLoader::budget_allows(uint64_t bytes) const {
  return _body_bytes == 0 || _body_bytes + bytes <= _ctx.config.memory_budget;
}

void ContentLoader::hold(uint64_t bytes) {
  _body_bytes += bytes;
  _stats.peak_body_bytes = std::max(_stats.peak_body_bytes, _body_bytes);
}

void ContentLoader::request_load(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  if (lm.msg || lm.loading || lm.load_queued) {
    return;
  }
  lm.load_queued = true;
  _queue.push_back(handle);
}

void ContentLoader::poll() {
  while (!_ctx.stopping && !_queue.empty() && _in_flight < kMaxReads) {
    const uint64_t handle = _queue.front();
    LiveMessage* lm = _table.find(handle);
    if (lm == nullptr) {
      _queue.pop_front();
      continue;
    }
    if (!budget_allows(lm->record.size)) {
      return;  // in order: the front waits for memory, the rest behind it
    }
    _queue.pop_front();
    lm->load_queued = false;
    const int fd = _segments.read_fd(lm->record);
    if (fd < 0 || !lm->record.valid()) {
      // Segments go only when nothing live is in them, so this is a dup()
      // that failed (no fds left) or a bug.
      load_failed(handle, absl::FailedPreconditionError("no open fd for its segment"));
      continue;
    }
    const uint32_t slot = _reads.acquire();
    Read& r = _reads[slot];
    r.handle = handle;
    ++r.gen;
    r.fd = fd;
    r.offset = lm->record.offset;
    r.done = 0;
    r.buf.resize(lm->record.size);
    hold(lm->record.size);
    lm->loading = true;
    ++_in_flight;
    submit_read(slot);
  }
}

void ContentLoader::submit_read(uint32_t slot) {
  Read& r = _reads[slot];
  io_uring_sqe* sqe = _ctx.ring.sqe();
  // A plain read on a regular file: the kernel hands it to io-wq (or reads
  // the page cache inline), so the shard never waits on the disk.
  io_uring_prep_read(sqe, r.fd, r.buf.data() + r.done, static_cast<unsigned>(r.buf.size() - r.done),
                     r.offset + r.done);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolRead, slot, r.gen));
}

void ContentLoader::on_completion(const UserData& ud, io_uring_cqe* cqe) { on_read(ud.slot, ud.gen, cqe->res); }

void ContentLoader::on_read(uint32_t slot, uint32_t gen, int res) {
  if (slot >= _reads.size() || _reads[slot].gen != gen || _reads[slot].handle == 0) {
    return;
  }
  Read& r = _reads[slot];
  if (res > 0 && r.done + static_cast<size_t>(res) < r.buf.size()) {
    r.done += static_cast<size_t>(res);  // a short read: ask for the rest
    submit_read(slot);
    return;
  }
  const uint64_t handle = r.handle;
  r.handle = 0;
  std::string record = std::move(r.buf);
  r.buf = std::string();
  _reads.release(slot);
  --_in_flight;
  _body_bytes -= record.size();
  LiveMessage* lm = _table.find(handle);
  if (lm == nullptr) {
    return;
  }
  lm->loading = false;
  absl::Status st;
  if (res < 0) {
    st = absl::ErrnoToStatus(-res, "read");
  } else if (res == 0) {
    st = absl::DataLossError("the segment ends inside the record");
  } else {
    st = take_loaded(*lm, std::move(record));
  }
  if (!st.ok()) {
    load_failed(handle, st);
    return;
  }
  ++_stats.loads;
  _hooks.loaded(handle);
}

// load_failed: the message stays metadata-only and in the spool; delivery
// tries a due attempt again after the shortest retry wait (a corrupt
// record stays stuck, and says so in the log each time).
void ContentLoader::load_failed(uint64_t handle, const absl::Status& why) {
  const LiveMessage& lm = _table.at(handle);
  ++_stats.load_failures;
  log_error("shard %u: %s: reading its record back (offset %llu, %u bytes) failed: %s; trying "
            "again in %llus",
            _ctx.id, std::string(lm.id.prefix()), static_cast<unsigned long long>(lm.record.offset),
            lm.record.size, why.message(), static_cast<unsigned long long>(_ctx.config.retry_min_s));
  _hooks.failed(handle);
}

// take_loaded checks a record read back and makes it the message's content:
// the checksum says the bytes are what was written, the queue id that they
// are this message's.
absl::Status ContentLoader::take_loaded(LiveMessage& lm, std::string record) {
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
  hold(content_size(*m));
  lm.msg = std::move(m);
  return absl::OkStatus();
}

void ContentLoader::drop_body(LiveMessage& lm) {
  if (!lm.msg || !lm.record.valid()) {
    return;  // no content, or no record to read it back from (keep it)
  }
  const uint64_t bytes = content_size(*lm.msg);
  if (lm.last_ticket > _store.settled_through()) {
    _held.push_back(HeldBody{lm.last_ticket, std::move(lm.msg), bytes});
    return;
  }
  lm.msg.reset();
  _body_bytes -= bytes;
}

void ContentLoader::release_held(uint64_t through) {
  std::erase_if(_held, [&](HeldBody& h) {
    if (h.ticket > through) {
      return false;
    }
    _body_bytes -= h.bytes;
    return true;
  });
}

}  // namespace ringmta
