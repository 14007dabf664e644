#include "spool/queue_id.h"

#include <algorithm>

namespace ringmta::spool {
namespace {

constexpr int64_t kEpochUnixMs = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr int64_t kMaxMillis = (int64_t{1} << 40) - 1;
constexpr uint32_t kMaxSeq = 0xFFFF;
constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::optional<QueueIdParts> parse_queue_id(std::string_view id) {
  if (id.size() != kQueueIdSize) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : id) {
    int h = hex_value(c);
    if (h < 0) {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(h);
  }
  return QueueIdParts{v >> 24, static_cast<unsigned>((v >> 16) & 0xFF),
                      static_cast<unsigned>(v & 0xFFFF)};
}

absl::Time queue_id_time(const QueueIdParts& parts) {
  return absl::FromUnixMillis(kEpochUnixMs + static_cast<int64_t>(parts.millis));
}

QueueIdGenerator::QueueIdGenerator(unsigned shard) : _shard(shard & 0xFF) {}

std::string QueueIdGenerator::next(absl::Time now) {
  int64_t ms = std::clamp<int64_t>(absl::ToUnixMillis(now) - kEpochUnixMs, 0, kMaxMillis);
  if (ms > _last_ms) {
    _last_ms = ms;
    _next_seq = 0;
  }
  if (_next_seq > kMaxSeq) {
    ++_last_ms;  // borrow the next millisecond; the clock catches up later
    _next_seq = 0;
  }
  uint64_t v = (static_cast<uint64_t>(_last_ms & kMaxMillis) << 24) |
               (static_cast<uint64_t>(_shard) << 16) | _next_seq++;
  std::string id(kQueueIdSize, '0');
  for (int i = static_cast<int>(kQueueIdSize) - 1; i >= 0; --i) {
    id[i] = kHex[v & 0xF];
    v >>= 4;
  }
  return id;
}

void QueueIdGenerator::observe(std::string_view id) {
  std::optional<QueueIdParts> p = parse_queue_id(id);
  if (!p) {
    return;
  }
  const auto ms = static_cast<int64_t>(p->millis);
  if (p->shard != _shard) {
    if (ms > _last_ms) {
      _last_ms = ms;
      _next_seq = 0;
    }
    return;
  }
  if (ms > _last_ms) {
    _last_ms = ms;
    _next_seq = p->sequence + 1;
  } else if (ms == _last_ms) {
    _next_seq = std::max(_next_seq, p->sequence + 1);
  }
}

}  // namespace ringmta::spool
