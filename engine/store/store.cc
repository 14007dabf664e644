// engine/store/store.cc — group commit: appending records, one RWF_DSYNC
// write per batch, and settling what waited for it (store.h).
#include "engine/store/store.h"

#include <liburing.h>

#include <algorithm>

#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"
#include "spool/layout.h"

namespace ringmta {

absl::Status Store::open(const StoreStart& start) {
  spool::WriterOptions wo;
  wo.segment_bytes = _ctx.config.segment_size;
  wo.min_number = start.highest_segment;
  absl::StatusOr<std::unique_ptr<spool::SegmentWriter>> writer =
      spool::SegmentWriter::open(spool::shard_dir(_ctx.config.spool_dir, _ctx.id), wo);
  if (!writer.ok()) {
    return writer.status();
  }
  _writer = std::move(*writer);
  _segments.note(*_writer);
  _ids = std::make_unique<spool::QueueIdGenerator>(_ctx.id);
  if (!start.max_queue_id.empty()) {
    _ids->observe(start.max_queue_id);
  }
  return absl::OkStatus();
}

// append_record is the one place a message becomes a spool record.
uint64_t Store::append_record(const proto::CompletedMessage& m) {
  spool::MessageRecord rec;
  rec.queue_id = m.queue_id;
  rec.arrival = m.arrival;
  rec.envelope = &m.envelope;
  rec.trace_headers = m.trace_headers;
  rec.body = m.body;
  return _writer->append_message(rec);
}

uint64_t Store::append_message(std::unique_ptr<proto::CompletedMessage> m, uint32_t slot, uint32_t gen) {
  const uint64_t ticket = append_record(*m);
  _waiters.push_back({ticket, std::move(m), slot, gen});
  return ticket;
}

uint64_t Store::append_copy(const proto::CompletedMessage& m) {
  const uint64_t ticket = append_record(m);
  background_pending();
  return ticket;
}

uint64_t Store::append_state(std::string_view queue_id, uint32_t rcpt, const spool::RecipientState& st) {
  spool::RecipientStateRecord rec;
  rec.queue_id = std::string(queue_id);
  rec.rcpt_index = rcpt;
  rec.state = st;
  const uint64_t ticket = _writer->append_state(rec);
  background_pending();
  return ticket;
}

void Store::background_pending() {
  if (_background_since_ms == 0) {
    _background_since_ms = monotonic_ms();
  }
}

uint64_t Store::settled_through() const {
  return std::max(_writer->durable_through(), _writer->failed_through());
}

// poll starts the next batch. Messages (a session waits for each) start one
// at once; background records alone wait up to kStateFlushMs for a message
// batch to ride in, so that a message never queues behind a sync that
// carries only bookkeeping.
void Store::poll() {
  if (!_writer->can_start_batch()) {
    return;
  }
  if (_waiters.empty() && !_ctx.stopping && monotonic_ms() - _background_since_ms < kStateFlushMs) {
    return;
  }
  _background_since_ms = 0;
  _batch_first_ticket = _writer->durable_through() + 1;
  _batch_start_us = monotonic_us();
  submit_batch(_writer->start_batch());
  _segments.note(*_writer);  // start_batch may have moved to a new segment
  ++_stats.batches;
}

int64_t Store::wait_bound_us(int64_t /*now_ms*/) const {
  return _background_since_ms != 0 ? kStateFlushMs * 1000 : -1;
}

bool Store::drained() const {
  return _waiters.empty() && !_writer->in_flight() && !_writer->can_start_batch();
}

void Store::submit_batch(const spool::SegmentWriter::Batch& b) {
  ++_batch;
  io_uring_sqe* w = _ctx.ring.sqe();
  io_uring_prep_writev(w, b.fd, b.iov.data(), static_cast<unsigned>(b.iov.size()), b.offset);
  // RWF_DSYNC: the write returns only once its data (and the metadata
  // needed to read it back) is on stable storage: fdatasync's guarantee
  // in one operation, so one io-wq hand-off per batch instead of two.
  w->rw_flags = RWF_DSYNC;
  io_uring_sqe_set_data64(w, encode(Op::kSpoolWrite, 0, _batch));
}

void Store::on_completion(const UserData& ud, io_uring_cqe* cqe) { on_write(ud.gen, cqe->res); }

void Store::on_write(uint32_t batch, int res) {
  if (batch != _batch) {
    return;
  }
  absl::StatusOr<spool::SegmentWriter::WriteResult> r = _writer->on_write_done(res);
  if (!r.ok()) {
    // The writer has failed the batch and moved to a fresh segment.
    log_error("shard %u: spool write failed: %s", _ctx.id, r.status().message());
    settle(false);
    return;
  }
  if (*r == spool::SegmentWriter::WriteResult::kResubmit) {
    submit_batch(_writer->resume_batch());
    return;
  }
  // Written with RWF_DSYNC: that was the sync too.
  batch_durable();
}

void Store::batch_durable() {
  absl::Status s = _writer->on_sync_done(0);
  const int64_t sync_us = monotonic_us() - _batch_start_us;
  _stats.sync_us += static_cast<uint64_t>(sync_us);
  _stats.sync.observe(static_cast<double>(sync_us) / 1e6);
  _stats.batch_records += _writer->durable_through() + 1 - _batch_first_ticket;
  if (!s.ok()) {
    log_error("shard %u: spool sync of %s failed: %s", _ctx.id, _writer->segment_path(), s.message());
  }
  settle(s.ok());
}

// settle answers every waiter whose message the last batch made durable or
// failed. It runs right after each batch settles, and batches run one at a
// time, so the front waiters always belong to that batch. Then what waited
// for the batch itself runs (hooks.settled).
void Store::settle(bool batch_ok) {
  const uint64_t durable = _writer->durable_through();
  const uint64_t failed = _writer->failed_through();
  // Where the batch's messages went (empty after a failure), in ticket order.
  const std::span<const spool::Placement> placed = _writer->durable_messages();
  size_t next_place = 0;
  while (!_waiters.empty()) {
    Waiter& w = _waiters.front();
    const bool ok = w.ticket <= durable;
    if (!ok && w.ticket > failed) {
      break;
    }
    ++(ok ? _stats.messages : _stats.store_failures);
    std::unique_ptr<proto::CompletedMessage> message = std::move(w.message);
    const uint64_t ticket = w.ticket;
    const uint32_t slot = w.slot;
    const uint32_t gen = w.gen;
    _waiters.pop_front();
    if (ok) {
      // Durable: from here on the message is delivery's, and its segment
      // counts it until it is final.
      SpoolRef ref;
      while (next_place < placed.size() && placed[next_place].ticket < ticket) {
        ++next_place;
      }
      if (next_place < placed.size() && placed[next_place].ticket == ticket) {
        ref = _segments.ref_of(placed[next_place]);
        _segments.acquire(ref);
      }
      _hooks.durable(std::move(message), ref, slot == kNoSession);
    } else if (slot == kNoSession) {
      log_error("shard %u: a generated message (DSN) could not be spooled and is lost", _ctx.id);
    }
    if (slot != kNoSession) {
      _hooks.answer(slot, gen, ok);
    }
  }
  _hooks.settled(batch_ok, batch_ok ? durable : failed);
}

}  // namespace ringmta
