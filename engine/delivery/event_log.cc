#include "engine/delivery/event_log.h"

#include <liburing.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "proto/json_text.h"
#include "engine/runtime/ring.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

using proto::append_json_string;

// A log that cannot keep up (a stalled disk) must not grow without bound:
// past this, new lines are dropped and counted.
constexpr size_t kMaxBuffered = 64ull << 20;

void append_time(std::string* out, absl::Time t) {
  append_json_string(out, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()));
}

}  // namespace

void EventLog::add(const DeliveryEvent& e) {
  if (_fd < 0) {
    return;
  }
  if (_buffer.size() > kMaxBuffered) {
    ++_lost_bytes;
    return;
  }
  std::string& b = _buffer;
  b.append("{\"type\":");
  append_json_string(&b, e.type);
  b.append(",\"time\":");
  append_time(&b, e.time);
  b.append(",\"queue_id\":");
  append_json_string(&b, e.queue_id);
  b.append(",\"sender\":");
  append_json_string(&b, e.sender);
  if (!e.auth_user.empty()) {
    b.append(",\"auth_user\":");
    append_json_string(&b, e.auth_user);
  }
  for (auto [key, value] : {std::pair{",\"tenant\":", e.tenant}, std::pair{",\"campaign\":", e.campaign},
                             std::pair{",\"source\":", e.source}, std::pair{",\"pool\":", e.pool}}) {
    if (!value.empty()) {
      b.append(key);
      append_json_string(&b, value);
    }
  }
  b.append(",\"recipient\":");
  append_json_string(&b, e.recipient);
  b.append(",\"host\":");
  append_json_string(&b, e.host);
  b.append(",\"ip\":");
  append_json_string(&b, e.ip);
  absl::StrAppend(&b, ",\"code\":", e.code, ",\"status\":");
  append_json_string(&b, e.status);
  b.append(",\"response\":");
  append_json_string(&b, e.response);
  b.append(",\"class\":");
  append_json_string(&b, e.bounce_class);
  absl::StrAppend(&b, ",\"attempt\":", e.attempt);
  if (e.type == "deferred") {
    b.append(",\"next_retry\":");
    append_time(&b, e.next_retry);
  }
  b.append("}\n");
}

void EventLog::add(const FeedbackEvent& e) {
  if (_fd < 0 || _buffer.size() > kMaxBuffered) {
    _lost_bytes += _fd >= 0;
    return;
  }
  std::string& b = _buffer;
  b.append("{\"type\":");
  append_json_string(&b, e.type);
  b.append(",\"time\":");
  append_time(&b, e.time);
  b.append(",\"recipient\":");
  append_json_string(&b, e.recipient);
  for (auto [key, value] : {std::pair{",\"queue_id\":", e.queue_id}, std::pair{",\"tenant\":", e.tenant},
                             std::pair{",\"campaign\":", e.campaign}, std::pair{",\"reason\":", e.reason},
                             std::pair{",\"status\":", e.status}, std::pair{",\"response\":", e.response},
                             std::pair{",\"class\":", e.bounce_class}, std::pair{",\"reporter\":", e.reporter},
                             std::pair{",\"feedback_id\":", e.feedback_id}}) {
    if (!value.empty()) {
      b.append(key);
      append_json_string(&b, value);
    }
  }
  b.append("}\n");
}

void EventLog::add(const ShapingEvent& e) {
  if (_fd < 0 || _buffer.size() > kMaxBuffered) {
    _lost_bytes += _fd >= 0;
    return;
  }
  std::string& b = _buffer;
  b.append("{\"type\":\"shaping\",\"time\":");
  append_time(&b, e.time);
  b.append(",\"action\":");
  append_json_string(&b, e.action);
  b.append(",\"site\":");
  append_json_string(&b, e.site);
  b.append(",\"source\":");
  append_json_string(&b, e.source);
  b.append(",\"rule\":");
  append_json_string(&b, e.rule);
  if (!e.tenant.empty()) {
    b.append(",\"tenant\":");
    append_json_string(&b, e.tenant);
  }
  if (!e.reply.empty()) {
    b.append(",\"response\":");
    append_json_string(&b, e.reply);
    b.append(",\"until\":");
    append_time(&b, e.until);
  }
  b.append("}\n");
}

void EventLog::on_completion(const UserData& /*ud*/, io_uring_cqe* cqe) { on_write(cqe->res); }

void EventLog::flush() {
  if (_fd < 0 || _in_flight || _buffer.empty()) {
    return;
  }
  _writing.swap(_buffer);
  _buffer.clear();
  _written = 0;
  io_uring_sqe* sqe = _ring->sqe();
  // Offset -1 with O_APPEND: append at the current end, atomically.
  io_uring_prep_write(sqe, _fd, _writing.data(), static_cast<unsigned>(_writing.size()), -1);
  io_uring_sqe_set_data64(sqe, encode(Op::kEventLog, _shard));
  _in_flight = true;
}

void EventLog::on_write(int res) {
  _in_flight = false;
  if (res < 0) {
    log_error("event log write failed: %s (%zu bytes of events lost)", strerror(-res), _writing.size());
    _writing.clear();
    return;
  }
  _written += static_cast<size_t>(res);
  if (_written < _writing.size()) {
    // A short append: put the rest in front of what came since.
    _buffer.insert(0, _writing, _written, std::string::npos);
  }
  _writing.clear();
  flush();
}

}  // namespace ringmta
