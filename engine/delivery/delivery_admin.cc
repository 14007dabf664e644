// engine/delivery/delivery_admin.cc — the origin side of the admin API:
// what waits here by domain, flushing deferred recipients, describing one
// message (delivery.h). Each walks the shard's live messages: a question
// an operator asks, not something on the delivery path.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/delivery/delivery.h"
#include "engine/runtime/absl_compat.h"
#include "proto/json_text.h"
#include "spool/queue_id.h"

namespace ringmta {
namespace {

constexpr size_t kMaxLastErrors = 10000;

const char* status_name(spool::RcptStatus s) {
  switch (s) {
    case spool::RcptStatus::kPending:
      return "pending";
    case spool::RcptStatus::kDeferred:
      return "deferred";
    case spool::RcptStatus::kDelivered:
      return "delivered";
    case spool::RcptStatus::kBounced:
      return "bounced";
  }
  return "unknown";
}

int64_t arrival_s(const LiveMessage& lm) {
  const auto parts = spool::parse_queue_id(lm.id.prefix());
  return parts ? absl::ToUnixSeconds(spool::queue_id_time(*parts)) : 0;
}

void append_time(std::string* out, absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    out->append("null");
    return;
  }
  proto::append_json_string(out, absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
}

}  // namespace

void Delivery::note_error(std::string_view rcpt, std::string_view text, absl::Time now) {
  const size_t at = rcpt.rfind('@');
  if (at == std::string_view::npos) {
    return;
  }
  if (_last_errors.size() >= kMaxLastErrors) {
    _last_errors.clear();
  }
  LastError& e = _last_errors[av(rcpt.substr(at + 1))];
  e.text.assign(text.substr(0, 300));
  e.time = now;
}

std::vector<DomainRow> Delivery::domain_rows(std::string_view domain) const {
  const DomainIds& ids = _table.domains();
  std::optional<uint32_t> only;
  if (!domain.empty()) {
    only = ids.find(domain);
    if (!only) return {};
  }
  absl::flat_hash_map<uint32_t, std::pair<DomainRow, uint64_t>> rows;  // id -> (row, last handle counted)
  _table.for_each([&](uint64_t handle, const LiveMessage& lm) {
    if (lm.jobs_out != 0) {
      return;  // in flight: the site queue that has it counts it
    }
    for (const RcptState& st : lm.rcpts) {
      if (spool::is_final(st.status) || st.domain == DomainIds::kNone || (only && st.domain != *only)) {
        continue;
      }
      auto& [r, last] = rows[st.domain];
      ++r.recipients;
      if (last != handle) {
        last = handle;
        ++r.messages;
        const int64_t a = arrival_s(lm);
        r.oldest_s = r.oldest_s == 0 ? a : std::min(r.oldest_s, a);
      }
      if (st.status == spool::RcptStatus::kDeferred) {
        const int64_t t = absl::ToUnixSeconds(st.next_retry);
        r.next_retry_s = r.next_retry_s == 0 ? t : std::min(r.next_retry_s, t);
      }
    }
  });
  std::vector<DomainRow> out;
  out.reserve(rows.size());
  for (auto& [id, entry] : rows) {
    DomainRow& r = entry.first;
    r.domain = std::string(ids.name(id));
    if (auto it = _last_errors.find(av(r.domain)); it != _last_errors.end()) {
      r.last_error = it->second.text;
      r.last_error_s = absl::ToUnixSeconds(it->second.time);
    }
    out.push_back(std::move(r));
  }
  return out;
}

size_t Delivery::flush(std::string_view domain) {
  std::optional<uint32_t> only;
  if (!domain.empty()) {
    only = _table.domains().find(domain);
    if (!only) return 0;
  }
  const absl::Time now = absl::Now();
  size_t n = 0;
  _table.for_each([&](uint64_t handle, LiveMessage& lm) {
    if (lm.jobs_out != 0) {
      return;
    }
    bool any = false;
    for (RcptState& st : lm.rcpts) {
      if (st.status == spool::RcptStatus::kDeferred && (!only || st.domain == *only)) {
        st.next_retry = now;
        any = true;
        ++n;
      }
    }
    if (any) {
      _retries.push(now, handle);
    }
  });
  return n;
}

std::string Delivery::describe(std::string_view queue_id) const {
  std::string out;
  _table.for_each([&](uint64_t, const LiveMessage& lm) {
    if (!out.empty() || !lm.id.matches(queue_id)) {
      return;
    }
    out = "{\"queue_id\":";
    proto::append_json_string(&out, queue_id);
    absl::StrAppend(&out, ",\"shard\":", _ctx.id, ",\"arrival\":");
    append_time(&out, absl::FromUnixSeconds(arrival_s(lm)));
    absl::StrAppend(&out, ",\"in_flight\":", lm.jobs_out != 0 ? "true" : "false",
                    ",\"dsn\":", lm.is_dsn ? "true" : "false");
    // The envelope is in memory only while the content is (an attempt);
    // a deferred message keeps its recipients' domains and states.
    const proto::CompletedMessage* m = lm.msg.get();
    if (m != nullptr) {
      for (auto [key, value] : {std::pair{"sender", &m->envelope.sender}, std::pair{"campaign", &m->envelope.campaign},
                                std::pair{"tenant", &m->envelope.tenant}, std::pair{"pool", &m->envelope.pool},
                                std::pair{"client", &m->envelope.client_addr}}) {
        absl::StrAppend(&out, ",\"", key, "\":");
        proto::append_json_string(&out, *value);
      }
      absl::StrAppend(&out, ",\"size\":", m->trace_headers.size() + m->body.size());
    }
    out += ",\"recipients\":[";
    for (size_t i = 0; i < lm.rcpts.size(); ++i) {
      const RcptState& st = lm.rcpts[i];
      if (i) out += ',';
      absl::StrAppend(&out, "{\"index\":", i, ",\"status\":\"", status_name(st.status), "\",\"attempts\":", st.attempts);
      if (m != nullptr && i < m->envelope.recipients.size()) {
        out += ",\"address\":";
        proto::append_json_string(&out, m->envelope.recipients[i]);
      } else if (st.domain != DomainIds::kNone) {
        out += ",\"domain\":";
        proto::append_json_string(&out, _table.domains().name(st.domain));
      }
      if (st.status == spool::RcptStatus::kDeferred) {
        out += ",\"next_retry\":";
        append_time(&out, st.next_retry);
        if (st.domain != DomainIds::kNone) {
          if (auto it = _last_errors.find(av(_table.domains().name(st.domain))); it != _last_errors.end()) {
            out += ",\"last_error\":";
            proto::append_json_string(&out, it->second.text);
          }
        }
      }
      out += "}";
    }
    out += "]}";
  });
  return out;
}

}  // namespace ringmta

namespace ringmta {

size_t Delivery::admin_bounce(const AdminBounce& b) {
  auto shared = std::make_shared<const AdminBounce>(b);
  std::optional<uint32_t> only;
  if (!b.domain.empty()) {
    only = _table.domains().find(b.domain);
    if (!only) return 0;
  }
  std::vector<uint64_t> taken;
  _table.for_each([&](uint64_t handle, const LiveMessage& lm) {
    if (lm.final() || (!b.queue_id.empty() && !lm.id.matches(b.queue_id))) {
      return;
    }
    if (only && std::none_of(lm.rcpts.begin(), lm.rcpts.end(), [&](const RcptState& st) {
          return !spool::is_final(st.status) && st.domain == *only;
        })) {
      return;
    }
    _admin_bounces[handle].push_back(shared);
    taken.push_back(handle);
  });
  for (uint64_t handle : taken) {
    LiveMessage& lm = _table.at(handle);
    if (lm.jobs_out != 0) {
      continue;  // after the attempt in flight (finish_attempt)
    }
    if (lm.msg) {
      apply_admin_bounce(handle);
    } else if (!lm.loading && !lm.load_queued) {
      _loader.request_load(handle);  // on_loaded applies it
    }
  }
  return taken.size();
}

// apply_admin_bounce: if an administrative bounce took this message and
// its envelope is in memory with no attempt out, bounce what it selects
// (as a local result, the way dispatch answers a recipient it cannot
// send to); true when it did.
bool Delivery::apply_admin_bounce(uint64_t handle) {
  auto it = _admin_bounces.find(handle);
  if (it == _admin_bounces.end()) {
    return false;
  }
  LiveMessage& lm = _table.at(handle);
  if (lm.jobs_out != 0 || !lm.msg) {
    return false;  // not yet: called again when it is
  }
  const std::vector<std::shared_ptr<const AdminBounce>> bounces = std::move(it->second);
  _admin_bounces.erase(it);
  const proto::Envelope& env = lm.msg->envelope;
  DeliveryResult local;
  local.message = handle;
  std::vector<bool> taken(lm.rcpts.size(), false);
  for (const std::shared_ptr<const AdminBounce>& b : bounces) {
    if ((!b->sender.empty() && env.sender != b->sender) || (!b->campaign.empty() && env.campaign != b->campaign)) {
      continue;  // read back to check, and not one of them
    }
    const std::string why = absl::StrCat("administrative bounce", b->reason.empty() ? "" : ": ", b->reason);
    for (uint32_t i = 0; i < lm.rcpts.size(); ++i) {
      const RcptState& st = lm.rcpts[i];
      if (taken[i] || spool::is_final(st.status) ||
          (!b->domain.empty() && _table.domains().name(st.domain) != b->domain)) {
        continue;
      }
      taken[i] = true;
      RcptOutcome o{i, Outcome::kBounced, 550, "5.0.0", why, "", ""};
      o.internal = true;
      o.admin_bounce = true;
      o.no_dsn = !b->dsn;
      local.outcomes.push_back(std::move(o));
    }
  }
  if (local.outcomes.empty()) {
    return false;
  }
  ++lm.jobs_out;
  _outbox.send(_ctx.id, std::move(local));
  return true;
}

}  // namespace ringmta

namespace ringmta {

void Delivery::show(std::string_view queue_id, std::function<void(std::string)> done) {
  uint64_t found = 0;
  _table.for_each([&](uint64_t handle, const LiveMessage& lm) {
    if (found == 0 && lm.id.matches(queue_id)) found = handle;
  });
  if (found == 0) {
    done("");
    return;
  }
  LiveMessage& lm = _table.at(found);
  if (lm.msg || !lm.record.valid()) {
    done(describe(queue_id));
    return;
  }
  _shows.emplace_back(found, std::move(done));
  _loader.request_load(found);  // on_loaded (or on_load_failed) answers
}

// answer_shows answers the shows waiting for this message, with what is in
// memory now.
void Delivery::answer_shows(uint64_t handle) {
  const LiveMessage* lm = _table.find(handle);
  std::vector<std::function<void(std::string)>> ready;
  std::erase_if(_shows, [&](auto& w) {
    if (w.first != handle) return false;
    ready.push_back(std::move(w.second));
    return true;
  });
  for (auto& done : ready) {
    done(lm != nullptr && lm->msg ? describe(lm->msg->queue_id) : lm != nullptr ? describe(lm->id.prefix()) : "");
  }
}

}  // namespace ringmta
