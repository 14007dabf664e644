#include "spool/segment_ledger.h"

#include <algorithm>

namespace ringmta::spool {

void SegmentLedger::opened(uint64_t number) {
  if (_segs.empty() || number > _segs.back().number) {
    _segs.push_back(Segment{number, 0, 0});
  }
}

SegmentLedger::Segment* SegmentLedger::find_mut(uint64_t number) {
  auto it = std::lower_bound(_segs.begin(), _segs.end(), number,
                             [](const Segment& s, uint64_t n) { return s.number < n; });
  return it != _segs.end() && it->number == number ? &*it : nullptr;
}

const SegmentLedger::Segment* SegmentLedger::find(uint64_t number) const {
  return const_cast<SegmentLedger*>(this)->find_mut(number);
}

const SegmentLedger::Segment* SegmentLedger::oldest() const {
  return _segs.empty() ? nullptr : &_segs.front();
}

void SegmentLedger::acquire(uint64_t number) {
  if (Segment* s = find_mut(number)) {
    ++s->live;
    ++s->total;
  }
}

void SegmentLedger::release(uint64_t number) {
  if (Segment* s = find_mut(number); s != nullptr && s->live > 0) {
    --s->live;
  }
}

std::optional<uint64_t> SegmentLedger::next_deletable() const {
  if (_deleting || _stuck || _segs.size() < 2) {
    return std::nullopt;  // the last one is the open segment: never deleted
  }
  const Segment& s = _segs.front();
  if (s.live != 0) {
    return std::nullopt;
  }
  return s.number;
}

void SegmentLedger::deleting(uint64_t number) {
  if (!_segs.empty() && _segs.front().number == number) {
    _deleting = true;
  }
}

void SegmentLedger::deleted(uint64_t number) {
  if (!_segs.empty() && _segs.front().number == number) {
    _segs.pop_front();
  }
  _deleting = false;
}

}  // namespace ringmta::spool
