// engine/observe/webhook_shipper.cc — tailing the event log and batches
// (webhook_shipper.h); the HTTP client is webhook_http.cc, the offset files
// webhook_offset.cc.
#include "engine/observe/webhook_shipper.h"

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/clock.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"
#include "proto/http_response.h"

namespace ringmta {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// At the end of the log, look for new lines this often (a read of the
// page cache through the ring: cheap enough not to need inotify).
constexpr int64_t kTailMs = 100;
// Read-ahead: at most two batches' lines, and at most this many bytes.
constexpr size_t kMaxAheadBytes = 8u << 20;
// A batch's body stops growing past this (a batch holds at least one line).
constexpr size_t kMaxBodyBytes = 4u << 20;
// A line longer than this is no event line of ours: skipped.
constexpr size_t kMaxLineBytes = 1u << 20;
// A stop waits this long for the response to a POST in flight.
constexpr int64_t kStopGraceMs = 1000;

// event_type: the "type" of an event line, or "" if it is not one. The
// event log writes "type" first; a line holding a second `{"type":` is two
// lines run together (the tail of a write cut short by a crash, then the
// next start's line), which would make the whole batch invalid JSON.
std::string_view event_type(std::string_view line) {
  constexpr std::string_view kStart = "{\"type\":\"";
  if (!line.starts_with(kStart) || !line.ends_with('}') ||
      line.find("{\"type\":", kStart.size()) != std::string_view::npos) {
    return {};
  }
  const size_t close = line.find('"', kStart.size());
  if (close == std::string_view::npos) {
    return {};
  }
  return line.substr(kStart.size(), close - kStart.size());
}

}  // namespace

WebhookShipper::WebhookShipper(const ShardContext& ctx, int event_log_fd)
    : _ctx(ctx), _fd(event_log_fd), _jitter(static_cast<uint32_t>(monotonic_us())) {
  _limits.max_body = 1u << 20;
  _hooks.reserve(ctx.config.webhooks.size());
  for (const Webhook& w : ctx.config.webhooks) {
    Hook& h = _hooks.emplace_back();
    h.cfg = &w;
    h.index = static_cast<uint32_t>(_hooks.size() - 1);
    h.offset_path = absl::StrCat(ctx.config.spool_dir, "/", w.offset_file);
    h.offset_tmp = absl::StrCat(h.offset_path, ".tmp");
    h.read_buf = std::make_unique<char[]>(kReadChunk);
  }
}

WebhookShipper::~WebhookShipper() {
  for (Hook& h : _hooks) {
    h.io.release();
    if (h.save_fd >= 0) {
      close(h.save_fd);
    }
    log_info("webhook %s: %llu events shipped in %llu batches, %llu failed attempts, %llu batches skipped (4xx), "
             "%llu bytes of the event log acknowledged",
             h.cfg->url, static_cast<unsigned long long>(h.events_shipped),
             static_cast<unsigned long long>(h.batches), static_cast<unsigned long long>(h.failures),
             static_cast<unsigned long long>(h.skipped), static_cast<unsigned long long>(h.saved));
  }
}

void WebhookShipper::start() {
  for (Hook& h : _hooks) {
    read_stored_offset(h);
    log_info("webhook %s: shipping %s from offset %llu of the event log", h.cfg->url,
             absl::StrJoin(h.cfg->events, ","), static_cast<unsigned long long>(h.acked));
  }
}

void WebhookShipper::on_completion(const UserData& ud, io_uring_cqe* cqe) {
  if (ud.slot >= _hooks.size()) {
    return;
  }
  Hook& h = _hooks[ud.slot];
  switch (ud.op) {
    case Op::kHookRead:
      on_read(h, cqe->res, monotonic_ms());
      return;
    case Op::kHookOffset:
      on_offset(h, ud.gen, cqe->res);
      return;
    case Op::kHookConnect:
      on_connect(h, cqe->res);
      return;
    case Op::kHookSend:
      on_send(h, cqe->res);
      return;
    case Op::kHookRecv:
      if (ud.gen != h.gen || h.io.fd < 0) {
        if (cqe->flags & IORING_CQE_F_BUFFER) {
          _ctx.buffers.recycle(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
        }
        return;
      }
      on_recv(h, cqe);
      return;
    default:
      return;
  }
}

void WebhookShipper::poll() {
  const int64_t now = monotonic_ms();
  for (Hook& h : _hooks) {
    if (!_ctx.stopping) {
      start_read(h);
      maybe_batch(h, now);
    }
    maybe_save(h, now);
  }
}

int64_t WebhookShipper::wait_bound_us(int64_t now_ms) const {
  int64_t due = -1;
  auto at = [&](int64_t t) { due = due < 0 ? t : std::min(due, t); };
  for (const Hook& h : _hooks) {
    if (_ctx.stopping) {
      if (h.awaiting) {
        at(_stop_deadline_ms);
      }
      continue;
    }
    if (!h.read_in_flight && h.next_read_ms > 0) {
      at(h.next_read_ms);
    }
    if (h.batch_active && !h.awaiting && h.retry_at_ms > 0) {
      at(h.retry_at_ms);
    } else if (!h.batch_active && !h.lines.empty()) {
      at(h.lines.front().seen_ms + h.cfg->max_delay_ms);
    }
    if (h.awaiting) {
      at(h.response_deadline_ms);
    }
    if (!h.save_in_flight && h.acked != h.saved) {
      at(h.last_save_ms + kIdleSaveMs);
    }
  }
  return due < 0 ? -1 : std::max<int64_t>(0, due - now_ms) * 1000;
}

void WebhookShipper::start_read(Hook& h) {
  if (h.read_in_flight || monotonic_ms() < h.next_read_ms) {
    return;
  }
  // Bounded memory: no more than two batches read ahead.
  if (h.lines.size() >= 2 * h.cfg->batch_size || h.line_bytes >= kMaxAheadBytes) {
    h.next_read_ms = 0;
    return;
  }
  io_uring_sqe* sqe = _ctx.ring.sqe();
  // A read at an explicit offset: the writers' O_APPEND position is not
  // touched, and a page-cache read through the ring never blocks the shard.
  io_uring_prep_read(sqe, _fd, h.read_buf.get(), kReadChunk, h.read_offset);
  io_uring_sqe_set_data64(sqe, encode(Op::kHookRead, h.index));
  h.read_in_flight = true;
}

void WebhookShipper::on_read(Hook& h, int res, int64_t now_ms) {
  h.read_in_flight = false;
  if (res < 0) {
    log_warn("webhook %s: read of the event log at %llu: %s", h.cfg->url,
             static_cast<unsigned long long>(h.read_offset), strerror(-res));
    h.next_read_ms = now_ms + 1000;
    return;
  }
  h.read_offset += static_cast<uint64_t>(res);
  take_lines(h, h.read_buf.get(), static_cast<size_t>(res), now_ms);
  // A full chunk: there is likely more at once; else wait for the writers.
  h.next_read_ms = static_cast<size_t>(res) == kReadChunk ? 0 : now_ms + kTailMs;
}

void WebhookShipper::take_lines(Hook& h, const char* data, size_t len, int64_t now_ms) {
  std::string_view rest(data, len);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      if (!h.skipping) {
        h.partial.append(rest);
        if (h.partial.size() > kMaxLineBytes) {
          log_warn("webhook %s: a line of the event log at %llu is longer than %zu bytes: skipped", h.cfg->url,
                   static_cast<unsigned long long>(h.scanned), kMaxLineBytes);
          h.skipping = true;
          h.partial.clear();
        }
      }
      return;
    }
    const uint64_t end = h.read_offset - (rest.size() - nl - 1);
    if (h.skipping) {
      h.skipping = false;
    } else {
      h.partial.append(rest.substr(0, nl));
      const std::string_view type = event_type(h.partial);
      if (type.empty() && !h.partial.empty()) {
        log_warn("webhook %s: the line of the event log at %llu is not an event line (a write cut short?): skipped",
                 h.cfg->url, static_cast<unsigned long long>(h.scanned));
      } else if (!type.empty() && h.cfg->ships(type)) {
        h.line_bytes += h.partial.size();
        h.lines.push_back(Line{std::move(h.partial), end, now_ms});
      }
      h.partial.clear();
    }
    h.scanned = end;
    rest.remove_prefix(nl + 1);
  }
  // Nothing waits to be shipped up to here: that much is as good as acknowledged.
  if (h.lines.empty() && !h.batch_active) {
    h.acked = h.scanned;
  }
}

void WebhookShipper::maybe_batch(Hook& h, int64_t now_ms) {
  if (h.batch_active) {
    // Waiting for its retry, or for the old connection to be let go of.
    if (!h.awaiting && !h.connecting && h.io.fd < 0 && now_ms >= h.retry_at_ms) {
      start_connect(h);
    }
    return;
  }
  if (h.lines.empty()) {
    return;
  }
  if (h.lines.size() < h.cfg->batch_size && now_ms < h.lines.front().seen_ms + h.cfg->max_delay_ms) {
    return;
  }
  std::string body = "[";
  size_t n = 0;
  while (n < h.lines.size() && n < h.cfg->batch_size &&
         (n == 0 || body.size() + h.lines[n].text.size() < kMaxBodyBytes)) {
    if (n > 0) {
      body += ',';
    }
    body += h.lines[n].text;
    ++n;
  }
  body += ']';
  h.batch_active = true;
  h.batch_count = n;
  // The whole queue goes: what was scanned after its last line holds
  // nothing to ship, so it is acknowledged with it.
  h.batch_end = n == h.lines.size() ? h.scanned : h.lines[n - 1].end;
  std::vector<std::pair<std::string, std::string>> headers = {{"User-Agent", "ringmta/" RINGMTA_VERSION}};
  headers.insert(headers.end(), h.cfg->headers.begin(), h.cfg->headers.end());
  h.request = proto::http_post(h.cfg->host, h.cfg->target, body, headers);
  h.retry_at_ms = 0;
  h.retried_fresh = false;
  if (h.open && !h.shut) {
    send_request(h);
  } else if (!h.connecting && h.io.fd < 0) {
    start_connect(h);
  }
}

// acknowledge: the receiver took the batch in flight (or refused it for
// good): its lines go, and the offset moves past them.
void WebhookShipper::acknowledge(Hook& h) {
  for (size_t i = 0; i < h.batch_count; ++i) {
    h.line_bytes -= h.lines.front().text.size();
    h.lines.pop_front();
  }
  h.acked = std::max(h.acked, h.batch_end);
  if (h.lines.empty()) {
    h.acked = std::max(h.acked, h.scanned);
  }
  h.batch_active = false;
  h.batch_count = 0;
  h.request = std::string();
  h.backoff_ms = 0;
  h.retry_at_ms = 0;
  h.last_save_ms = 0;  // save now
}

void WebhookShipper::after_wait(int64_t now_ms) {
  for (Hook& h : _hooks) {
    if (!h.awaiting) {
      continue;
    }
    if (_ctx.stopping && now_ms >= _stop_deadline_ms) {
      // Abandoned: not acknowledged, so it is sent again at the next start.
      log_info("webhook %s: stopping: a POST of %zu events abandoned (sent again at the next start)", h.cfg->url,
               h.batch_count);
      h.awaiting = false;
      shut(h);
    } else if (now_ms >= h.response_deadline_ms) {
      fail_attempt(h, "no response in time");
    }
  }
}

void WebhookShipper::begin_stop() {
  _stop_deadline_ms = monotonic_ms() + kStopGraceMs;
  for (Hook& h : _hooks) {
    if (!h.awaiting) {
      shut(h);
    }
  }
}

bool WebhookShipper::drained() const {
  return std::all_of(_hooks.begin(), _hooks.end(), [](const Hook& h) {
    // An offset file that cannot be written does not hold the stop up:
    // what it missed is sent again.
    return !h.read_in_flight && !h.save_in_flight && (h.acked == h.saved || h.save_failed) && h.io.fd < 0 &&
           !h.connecting;
  });
}

}  // namespace ringmta
