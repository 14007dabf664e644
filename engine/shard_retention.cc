// engine/shard_retention.cc — which of the shard's segments still hold live
// messages, copying messages forward, and deleting segments ("a segment is
// deleted once every message in it is final", DESIGN.md "The spool").
//
// The rules:
//
// 1. A message is live from the moment its record is durable until every
//    recipient is delivered or bounced AND the last record written for it
//    (state records, its DSN, a copy) is durable. Deleting a message's
//    record before its final state record is synced would in itself be
//    safe (with the record gone, nothing is left to redeliver), but a DSN
//    must be on disk before the message that caused it may disappear, and
//    one rule is simpler to check than two. State records are flushed at
//    most kStateFlushMs late, so the wait costs nothing.
// 2. A live message is counted against the segment holding its record, its
//    "home" (spool::SegmentLedger; for an adopted message, the shared
//    RecoveredSpool).
// 3. This run's own segments are deleted oldest first, when sealed and
//    counting nothing, one at a time, each unlink made durable (directory
//    fsync) before the next: state records always follow their message,
//    so a crash leaves a deleted prefix and loses no needed state record
//    (the argument is in spool/segment_ledger.h).
// 4. None of them is deleted before the segments recovery found are
//    (RecoveredSpool::retired()): they hold the state records of adopted
//    messages, which must outlive those messages' records.
// 5. Copy forward. A copy is the message record appended again to the
//    current segment, followed by one state record per recipient that is
//    not pending (the "snapshot": it carries forward every state recorded
//    in older segments). Once both are durable the message's home moves to
//    the copy. Copies are made of every adopted message when it is first
//    read back (so the recovered group can go), and of the live messages
//    of the oldest segment when it holds back kCompactAfterSegments or more
//    (compaction: one long-deferred message would otherwise keep every
//    younger segment for days). Recovery keeps the first copy it meets of a
//    message and merges every state record, so two copies are harmless.
//
// When writes fail: a copy whose record or snapshot did not reach the disk
// is made again at the next tick (the message stays home meanwhile). A
// finished message whose last records failed keeps its segment for good
// (until a restart looks again), rather than risk losing a DSN.
//
// Deletion runs on the ring: IORING_OP_UNLINKAT on the shard directory's
// fd, then after its completion IORING_OP_FSYNC of the directory; the
// shard thread never waits on either.
#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "engine/runtime/log.h"
#include "engine/shard.h"
#include "engine/runtime/user_data.h"
#include "spool/layout.h"

namespace ringmta {
namespace {

// Compaction: when the oldest segment holds back this many (itself and the
// open one included), its live messages are copied forward; checked at
// most every kCompactEveryMs (it walks the live messages).
constexpr size_t kCompactAfterSegments = 4;
constexpr int64_t kCompactEveryMs = 5000;

}  // namespace

void Shard::note_segment() {
  const int fd = _spool->segment_fd();
  const uint64_t number = _spool->segment_number();
  if (fd < 0 || (!_segs.empty() && _segs.back().number == number)) {
    return;
  }
  // A read fd of our own: the writer closes its fd when it moves to the
  // next segment, and records are read back from sealed ones. dup touches
  // only the fd table, never the disk.
  int rfd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (rfd < 0) {
    log_error("shard %u: dup of %s: %s (its messages cannot be read back)", _id,
              _spool->segment_path(), strerror(errno));
  }
  _segs.push_back(OwnSegment{number, rfd});
  _ledger.opened(number);
}

SpoolRef Shard::ref_of(const spool::Placement& p) const {
  for (size_t i = _segs.size(); i-- > 0;) {
    if (_segs[i].number == p.segment) {
      return SpoolRef{p.offset, static_cast<uint32_t>(p.size), static_cast<uint32_t>(i)};
    }
  }
  return SpoolRef{};
}

void Shard::acquire_ref(const SpoolRef& ref) {
  if (ref.valid() && !ref.recovered() && ref.seg < _segs.size()) {
    _ledger.acquire(_segs[ref.seg].number);
  }
}

void Shard::release_ref(const SpoolRef& ref) {
  if (!ref.valid()) {
    return;
  }
  if (ref.recovered()) {
    if (_recovered != nullptr) {
      _recovered->release();
    }
  } else if (ref.seg < _segs.size()) {
    _ledger.release(_segs[ref.seg].number);
  }
}

uint64_t Shard::settled_through() const {
  return std::max(_spool->durable_through(), _spool->failed_through());
}

void Shard::after_durable(AfterDurable ev) {
  ev.order = ++_after_order;
  if (ev.ticket <= settled_through()) {
    apply_after_durable(ev, ev.ticket <= _spool->durable_through());
    return;
  }
  _after.push_back(ev);
  std::push_heap(_after.begin(), _after.end(), AfterDurable::later);
}

// run_after_durable runs after each batch settles: every event up to its
// last ticket belongs to it (events are queued before their batch starts).
void Shard::run_after_durable(bool ok, uint64_t through) {
  while (!_after.empty() && _after.front().ticket <= through) {
    std::pop_heap(_after.begin(), _after.end(), AfterDurable::later);
    AfterDurable ev = _after.back();
    _after.pop_back();
    apply_after_durable(ev, ok);
  }
  release_held(through);
  maybe_delete_segment();
}

void Shard::apply_after_durable(const AfterDurable& ev, bool ok) {
  if (ev.kind == AfterDurable::Kind::kRelease) {
    if (!ok) {
      // Its last records may be lost (a DSN among them): keep its segment,
      // so that a restart finds the message again rather than nothing.
      log_warn("shard %u: the final records of a message failed to write; its segment is kept", _id);
      return;
    }
    release_ref(ev.a);
    release_ref(ev.b);
    return;
  }
  auto it = _live.find(ev.handle);
  if (it == _live.end() || it->second->copy_seq != ev.copy_seq) {
    return;  // final meanwhile (its release covers a placed copy), or a stale copy
  }
  LiveMessage& lm = *it->second;
  if (ev.kind == AfterDurable::Kind::kCopyPlaced) {
    if (!ok) {
      return;  // kCopyDone, at this or a later ticket, finds no copy and tries again
    }
    for (const spool::Placement& p : _spool->durable_messages()) {
      if (p.ticket == ev.ticket) {
        // Counted from now: the copy's segment must not go before the
        // snapshot behind it is durable and the home moves.
        lm.copy = ref_of(p);
        acquire_ref(lm.copy);
      }
    }
    return;
  }
  lm.copying = false;
  if (!ok || !lm.copy.valid()) {
    // The copy or part of its snapshot is not on disk: the message stays
    // home, and a new copy (with a full snapshot) is made at the next tick.
    release_ref(lm.copy);
    lm.copy = SpoolRef{};
    _copy_retry.push_back(ev.handle);
    return;
  }
  release_ref(lm.record);
  lm.record = lm.copy;
  lm.copy = SpoolRef{};
  ++_stats.copies;
}

void Shard::migrate(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  if (lm.copying) {
    return;
  }
  lm.want_copy = true;
  if (!lm.msg) {
    request_load(handle);  // on_loaded appends the copy
    return;
  }
  append_copy(handle);
  if (lm.jobs_out == 0 && !lm.want_dispatch) {
    drop_body(lm);
  }
}

void Shard::append_copy(uint64_t handle) {
  LiveMessage& lm = *_live.at(handle);
  const proto::CompletedMessage& m = *lm.msg;
  lm.want_copy = false;
  lm.copying = true;
  release_ref(lm.copy);  // none is placed while copying; if one were, it is superseded
  lm.copy = SpoolRef{};
  ++lm.copy_seq;
  spool::MessageRecord rec;
  rec.queue_id = m.queue_id;
  rec.arrival = m.arrival;
  rec.envelope = &m.envelope;
  rec.trace_headers = m.trace_headers;
  rec.body = m.body;
  const uint64_t copy = _spool->append_message(rec);
  after_durable(AfterDurable{copy, 0, AfterDurable::Kind::kCopyPlaced, lm.copy_seq, handle, {}, {}});
  uint64_t last = copy;
  for (uint32_t i = 0; i < lm.rcpts.size(); ++i) {
    const RcptState& st = lm.rcpts[i];
    if (st.status == spool::RcptStatus::kPending) {
      continue;
    }
    spool::RecipientStateRecord s;
    s.queue_id = m.queue_id;
    s.rcpt_index = i;
    s.state.status = st.status;
    s.state.attempts = st.attempts;
    s.state.next_retry = st.next_retry;
    last = _spool->append_state(s);
  }
  after_durable(AfterDurable{last, 0, AfterDurable::Kind::kCopyDone, lm.copy_seq, handle, {}, {}});
  lm.last_ticket = std::max(lm.last_ticket, last);
  // Background work: it rides in the next batch, like a state record.
  if (_state_pending_since_ms == 0) {
    _state_pending_since_ms = monotonic_ms();
  }
}

void Shard::retention_tick(int64_t now_ms) {
  std::vector<uint64_t> again;
  again.swap(_copy_retry);
  for (uint64_t handle : again) {
    if (_live.contains(handle)) {
      migrate(handle);
    }
  }
  if (!_stopping && now_ms >= _next_compact_ms) {
    _next_compact_ms = now_ms + kCompactEveryMs;
    maybe_compact();
  }
  maybe_delete_segment();
}

// maybe_compact copies forward the live messages of the oldest segment
// when it holds back enough younger ones. Messages in an attempt are copied
// too (their content is in memory; results that come later are written
// after the snapshot, so they stay the newest word): a slow destination's
// long queue must not pin the spool either.
void Shard::maybe_compact() {
  const spool::SegmentLedger::Segment* old = _ledger.oldest();
  if (old == nullptr || old->live == 0 || _ledger.size() < kCompactAfterSegments) {
    return;
  }
  uint32_t slot = 0;
  while (slot < _segs.size() && _segs[slot].number != old->number) {
    ++slot;
  }
  size_t n = 0;
  for (auto& [handle, lm] : _live) {
    if (lm->record.valid() && !lm->record.recovered() && lm->record.seg == slot && !lm->copying) {
      migrate(handle);
      ++n;
    }
  }
  if (n != 0) {
    log_debug("shard %u: compacting segment %llu: copying %zu of its %llu live messages forward", _id,
              static_cast<unsigned long long>(old->number), n,
              static_cast<unsigned long long>(old->live));
  }
}

void Shard::maybe_delete_segment() {
  if (_gc_busy || _stopping || _dir_fd < 0) {
    return;
  }
  if (_recovered != nullptr && !_recovered->retired()) {
    return;  // rule 4
  }
  std::optional<uint64_t> n = _ledger.next_deletable();
  if (!n) {
    return;
  }
  _ledger.deleting(*n);
  _gc_busy = true;
  _gc_number = *n;
  _gc_name = spool::segment_file_name(*n);
  // Close our read fd first, while the file still has its name: closing
  // the last reference to an unlinked file frees its blocks in the closing
  // thread. This way that work happens inside the unlink, in io-wq. (No
  // read can be pending: nothing live is in the segment.)
  for (OwnSegment& s : _segs) {
    if (s.number == *n && s.fd >= 0) {
      ::close(s.fd);
      s.fd = -1;
    }
  }
  io_uring_sqe* sqe = _ring->sqe();
  // IORING_OP_UNLINKAT (5.11+): the unlink runs in io-wq, not on this thread.
  io_uring_prep_unlinkat(sqe, _dir_fd, _gc_name.c_str(), 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolUnlink));
}

void Shard::on_segment_unlinked(int res) {
  if (res < 0) {
    log_error("shard %u: unlink %s/%s: %s; no more segments are deleted in this run", _id,
              spool::shard_dir(_config.spool_dir, _id), _gc_name, strerror(-res));
    _ledger.stuck();
    _gc_busy = false;
    return;
  }
  // The unlink is durable once the directory is; the next deletion waits
  // for this fsync (issued after the unlink's completion, not linked to it,
  // so a full submission queue can never split the pair).
  io_uring_sqe* sqe = _ring->sqe();
  io_uring_prep_fsync(sqe, _dir_fd, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolDirSync));
}

void Shard::on_spool_dir_synced(int res) {
  _gc_busy = false;
  if (res < 0) {
    log_error("shard %u: fsync %s: %s; no more segments are deleted in this run", _id,
              spool::shard_dir(_config.spool_dir, _id), strerror(-res));
    _ledger.stuck();
    return;
  }
  _ledger.deleted(_gc_number);
  ++_stats.segments_deleted;
  log_debug("shard %u: deleted spool segment %s", _id, _gc_name);
  maybe_delete_segment();
}

}  // namespace ringmta
