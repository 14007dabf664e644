// engine/store/retention.cc — releasing final messages' segments, copying
// records forward, compaction (the rules are in retention.h).
#include "engine/store/retention.h"

#include <algorithm>

#include "engine/runtime/log.h"

namespace ringmta {
namespace {

// Compaction: when the oldest segment holds back this many (itself and the
// open one included), its live messages are copied forward; checked at
// most every kCompactEveryMs (it walks the live messages).
constexpr size_t kCompactAfterSegments = 4;
constexpr int64_t kCompactEveryMs = 5000;

}  // namespace

void Retention::on_final(const LiveMessage& lm) {
  AfterDurable ev;
  ev.ticket = lm.last_ticket;
  ev.kind = AfterDurable::Kind::kRelease;
  ev.a = lm.record;
  ev.b = lm.copy;  // a copy already counted (placed, snapshot pending)
  after_durable(ev);
}

void Retention::after_durable(AfterDurable ev) {
  ev.order = ++_after_order;
  if (ev.ticket <= _store.settled_through()) {
    apply(ev, ev.ticket <= _store.durable_through());
    return;
  }
  _after.push_back(ev);
  std::push_heap(_after.begin(), _after.end(), AfterDurable::later);
}

// on_settled: every event up to the batch's last ticket belongs to it
// (events are queued before their batch starts).
void Retention::on_settled(bool ok, uint64_t through) {
  while (!_after.empty() && _after.front().ticket <= through) {
    std::pop_heap(_after.begin(), _after.end(), AfterDurable::later);
    AfterDurable ev = _after.back();
    _after.pop_back();
    apply(ev, ok);
  }
  _loader.release_held(through);
  _segments.maybe_delete();
}

void Retention::apply(const AfterDurable& ev, bool ok) {
  if (ev.kind == AfterDurable::Kind::kRelease) {
    if (!ok) {
      // Its last records may be lost (a DSN among them): keep its segment,
      // so that a restart finds the message again rather than nothing.
      log_warn("shard %u: the final records of a message failed to write; its segment is kept", _ctx.id);
      return;
    }
    _segments.release(ev.a);
    _segments.release(ev.b);
    return;
  }
  LiveMessage* found = _table.find(ev.handle);
  if (found == nullptr || found->copy_seq != ev.copy_seq) {
    return;  // final meanwhile (its release covers a placed copy), or a stale copy
  }
  LiveMessage& lm = *found;
  if (ev.kind == AfterDurable::Kind::kCopyPlaced) {
    if (!ok) {
      return;  // kCopyDone, at this or a later ticket, finds no copy and tries again
    }
    for (const spool::Placement& p : _store.durable_messages()) {
      if (p.ticket == ev.ticket) {
        // Counted from now: the copy's segment must not go before the
        // snapshot behind it is durable and the home moves.
        lm.copy = _segments.ref_of(p);
        _segments.acquire(lm.copy);
      }
    }
    return;
  }
  lm.copying = false;
  if (!ok || !lm.copy.valid()) {
    // The copy or part of its snapshot is not on disk: the message stays
    // home, and a new copy (with a full snapshot) is made at the next tick.
    _segments.release(lm.copy);
    lm.copy = SpoolRef{};
    _copy_retry.push_back(ev.handle);
    return;
  }
  _segments.release(lm.record);
  lm.record = lm.copy;
  lm.copy = SpoolRef{};
  ++_copies;
}

void Retention::migrate(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  if (lm.copying) {
    return;
  }
  lm.want_copy = true;
  if (!lm.msg) {
    _loader.request_load(handle);  // delivery appends the copy once it is loaded
    return;
  }
  append_copy(handle);
  if (lm.jobs_out == 0 && !lm.want_dispatch) {
    _loader.drop_body(lm);
  }
}

void Retention::append_copy(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  const proto::CompletedMessage& m = *lm.msg;
  lm.want_copy = false;
  lm.copying = true;
  _segments.release(lm.copy);  // none is placed while copying; if one were, it is superseded
  lm.copy = SpoolRef{};
  ++lm.copy_seq;
  const uint64_t copy = _store.append_copy(m);
  after_durable(AfterDurable{copy, 0, AfterDurable::Kind::kCopyPlaced, lm.copy_seq, handle, {}, {}});
  uint64_t last = copy;
  for (uint32_t i = 0; i < lm.rcpts.size(); ++i) {
    const RcptState& st = lm.rcpts[i];
    if (st.status != spool::RcptStatus::kPending) {
      last = _store.append_state(m.queue_id, i, spool::RecipientState{st.status, st.attempts, st.next_retry});
    }
  }
  after_durable(AfterDurable{last, 0, AfterDurable::Kind::kCopyDone, lm.copy_seq, handle, {}, {}});
  lm.last_ticket = std::max(lm.last_ticket, last);
}

void Retention::on_tick(int64_t now_ms) {
  std::vector<uint64_t> again;
  again.swap(_copy_retry);
  for (uint64_t handle : again) {
    if (_table.contains(handle)) {
      migrate(handle);
    }
  }
  if (!_ctx.stopping && now_ms >= _next_compact_ms) {
    _next_compact_ms = now_ms + kCompactEveryMs;
    maybe_compact();
  }
  _segments.maybe_delete();
}

// maybe_compact copies forward the live messages of the oldest segment
// when it holds back enough younger ones. Messages in an attempt are copied
// too (their content is in memory; results that come later are written
// after the snapshot, so they stay the newest word): a slow destination's
// long queue must not pin the spool either.
void Retention::maybe_compact() {
  std::optional<Segments::Oldest> oldest = _segments.oldest_holding_back(kCompactAfterSegments);
  if (!oldest) {
    return;
  }
  std::vector<uint64_t> old;
  _table.for_each([&](uint64_t handle, const LiveMessage& lm) {
    if (lm.record.valid() && !lm.record.recovered() && lm.record.seg == oldest->slot && !lm.copying) {
      old.push_back(handle);
    }
  });
  for (uint64_t handle : old) {
    migrate(handle);
  }
  if (!old.empty()) {
    log_debug("shard %u: compacting segment %llu: copying %zu of its %llu live messages forward", _ctx.id,
              static_cast<unsigned long long>(oldest->number), old.size(),
              static_cast<unsigned long long>(oldest->live));
  }
}

}  // namespace ringmta
