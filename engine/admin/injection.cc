// engine/admin/injection.cc — HTTP injection (injection.h).
#include "engine/admin/injection.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "proto/inject_message.h"
#include "proto/json_text.h"

namespace ringmta {

std::optional<AdminResponse> Injection::start(const proto::HttpMessage& req, AdminRequestRef ref,
                                              std::string_view client_addr) {
  if (const std::string* type = req.header("Content-Type");
      type != nullptr && type->find("json") == std::string::npos) {
    return json_error(415, absl::StrCat("expected Content-Type: application/json, got ", *type,
                                        " (with curl: -H 'Content-Type: application/json')"));
  }
  const Config& cfg = _ctx.config;
  proto::InjectLimits limits;
  limits.max_content_size = cfg.max_message_size;
  absl::StatusOr<proto::InjectRequest> parsed = proto::parse_inject_request(req.body, limits);
  if (!parsed.ok()) {
    return json_error(400, sv(parsed.status().message()));
  }
  if (_suppression != nullptr) {
    refuse_suppressed(*parsed);
  }
  proto::InjectBuildOptions o;
  o.hostname = cfg.hostname;
  o.client_addr = client_addr;
  o.now = absl::Now();
  o.max_message_size = cfg.max_message_size;
  o.max_recipients = cfg.max_recipients;
  o.max_text_line = cfg.max_text_line;
  o.require_list_unsubscribe = cfg.require_list_unsubscribe;
  o.new_queue_id = [this] { return _store.new_queue_id(); };
  proto::InjectBuild built = proto::build_inject_messages(*parsed, o);

  Pending p;
  p.ref = ref;
  p.failed = std::move(built.failed);
  p.outstanding = built.messages.size();
  p.stored.assign(built.messages.size(), false);
  p.counts = std::move(built.counts);
  for (const auto& m : built.messages) {
    p.queue_ids.push_back(m->queue_id);
    p.rcpts.push_back(m->envelope.recipients);
  }
  if (built.messages.empty()) {
    return answer(p);
  }
  _pending[ref.slot] = std::move(p);
  // Each message goes the way an SMTP message goes at the end of DATA:
  // signed when a key applies, then into the next spool batch.
  for (uint32_t i = 0; i < built.messages.size(); ++i) {
    _signing.submit(std::move(built.messages[i]), ref.slot | kAdminSlotBit, i);
  }
  return std::nullopt;
}

// refuse_suppressed moves the suppressed recipients to failed_recipients,
// with their index in the request, as RCPT TO refuses them (entries for
// every tenant; a tenant's own are applied at dispatch, suppression.h).
void Injection::refuse_suppressed(proto::InjectRequest& r) {
  std::vector<bool> failed_at;  // by request index: parsing refused it
  for (const proto::FailedRecipient& f : r.failed_recipients) {
    if (f.index >= failed_at.size()) failed_at.resize(f.index + 1);
    failed_at[f.index] = true;
  }
  size_t index = 0;  // the request index of r.recipients[i]
  size_t kept = 0;
  for (size_t i = 0; i < r.recipients.size(); ++i, ++index) {
    while (index < failed_at.size() && failed_at[index]) ++index;
    std::string reason = _suppression->refusal_reason(r.recipients[i].email, "");
    if (reason.empty()) {
      if (kept != i) r.recipients[kept] = std::move(r.recipients[i]);
      ++kept;
    } else {
      r.failed_recipients.push_back({index, r.recipients[i].email, std::move(reason)});
    }
  }
  r.recipients.resize(kept);
}

void Injection::on_stored(uint32_t slot, uint32_t index, bool ok) {
  auto it = _pending.find(slot);
  if (it == _pending.end() || index >= it->second.stored.size() || it->second.stored[index]) {
    return;
  }
  Pending& p = it->second;
  p.stored[index] = true;
  --p.outstanding;
  if (ok) {
    p.accepted += p.counts[index];
  } else {
    for (const std::string& r : p.rcpts[index]) {
      p.failed.push_back({SIZE_MAX, r, "the spool write failed; nothing was accepted for this recipient: try again"});
    }
    p.queue_ids[index].clear();
  }
  if (p.outstanding == 0) {
    const AdminResponse r = answer(p);
    const AdminRequestRef ref = p.ref;
    _pending.erase(it);
    _respond(ref, r);
  }
}

AdminResponse Injection::answer(const Pending& p) const {
  AdminResponse r;
  std::string& b = r.body;
  absl::StrAppend(&b, "{\"success_count\":", p.accepted, ",\"fail_count\":", p.failed.size(),
                  ",\"failed_recipients\":[");
  for (size_t i = 0; i < p.failed.size(); ++i) {
    const proto::FailedRecipient& f = p.failed[i];
    b += i ? ",{\"email\":" : "{\"email\":";
    proto::append_json_string(&b, f.email);
    b += ",\"reason\":";
    proto::append_json_string(&b, f.reason);
    if (f.index != SIZE_MAX) {
      absl::StrAppend(&b, ",\"index\":", f.index);
    }
    b += "}";
  }
  b += "],\"queue_ids\":[";
  bool first = true;
  for (const std::string& id : p.queue_ids) {
    if (id.empty()) continue;
    b += first ? "" : ",";
    first = false;
    proto::append_json_string(&b, id);
  }
  b += "]}\n";
  if (p.accepted == 0) {
    // Nothing was accepted: say why at the top, as every other error does.
    const bool spool_failed = !p.failed.empty() && p.failed.back().index == SIZE_MAX;
    r.status = spool_failed ? 503 : 422;
    std::string err = "{\"error\":";
    proto::append_json_string(&err, spool_failed ? "the spool write failed: try again"
                                                 : "no recipient was accepted (see failed_recipients)");
    b.replace(0, 1, err + ",");
  }
  return r;
}

}  // namespace ringmta
