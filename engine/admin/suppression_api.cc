// engine/admin/suppression_api.cc — /api/v1/suppressions (admin_api.h):
// reads answer at once from the shard's own reader; writes go to the
// store's writer thread and are answered once committed (durable), so a
// 200 to a POST means the entries survive a crash, as a 250 means for mail.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/admin/admin_api.h"
#include "engine/runtime/absl_compat.h"
#include "engine/suppression/suppression_json.h"
#include "proto/json_text.h"

namespace ringmta {
namespace {

// Entries per POST: a CSV import is sent in parts of this size
// (ringmta-ctl suppress import does).
constexpr size_t kMaxPostEntries = 100000;
constexpr size_t kDefaultListLimit = 1000;
constexpr size_t kMaxListLimit = 100000;

}  // namespace

std::optional<AdminResponse> AdminApi::suppressions(const proto::HttpMessage& req, AdminRequestRef ref) {
  if (_suppression == nullptr) {
    return json_error(409, "suppression is off (suppression.enabled = false)");
  }
  const std::string_view path = req.path();
  const bool one = path.size() > 21;  // /api/v1/suppressions/ADDR
  const std::string address = one ? proto::percent_decode_path(path.substr(21)) : std::string();
  if (req.method == "GET" || req.method == "HEAD") {
    return one ? check_suppression(req, address) : list_suppressions(req);
  }
  if (req.method == "POST" && !one) {
    absl::StatusOr<std::vector<SuppressionEntry>> entries = parse_entries(req.body, kMaxPostEntries, absl::Now());
    if (!entries.ok()) {
      return json_error(400, sv(entries.status().message()));
    }
    std::vector<SuppressionChange> changes;
    changes.reserve(entries->size());
    for (SuppressionEntry& e : *entries) {
      changes.push_back({SuppressionChange::kPut, std::move(e)});
    }
    std::string answer = absl::StrCat("{\"added\":", changes.size(), "}\n");
    return write_suppressions(std::move(changes), ref, std::move(answer));
  }
  if (req.method == "DELETE" && one) {
    absl::StatusOr<SuppressionEntry> target = parse_target(address);
    if (!target.ok()) {
      return json_error(400, sv(target.status().message()));
    }
    target->tenant = req.query_param("tenant");
    SuppressionEntry existing;
    const bool there = _suppression->reader().get(*target, &existing);
    std::string answer = absl::StrCat("{\"removed\":", there ? "true" : "false", "}\n");
    if (!there) {
      AdminResponse r;
      r.status = 404;
      r.body = absl::StrCat("{\"removed\":false,\"error\":\"", target->address(),
                            " has no entry", target->tenant.empty() ? "" : " for that tenant", "\"}\n");
      return r;
    }
    return write_suppressions({SuppressionChange{SuppressionChange::kRemove, std::move(*target)}}, ref,
                              std::move(answer));
  }
  return json_error(405, "use GET or POST for /api/v1/suppressions, GET or DELETE for /api/v1/suppressions/ADDR");
}

AdminResponse AdminApi::list_suppressions(const proto::HttpMessage& req) {
  ScanFilter f;
  f.reason = req.query_param("reason");
  SuppressionReason unused;
  if (!f.reason.empty() && !parse_suppression_reason(f.reason, &unused)) {
    return json_error(400, absl::StrCat("reason '", f.reason, "' is not bounce, complaint, unsubscribe or manual"));
  }
  f.tenant = req.query_param("tenant");
  if (const std::string since = req.query_param("since"); !since.empty() && !parse_time(since, &f.since)) {
    return json_error(400, absl::StrCat("since '", since, "' is not a date (2026-12-04), RFC 3339 or unix seconds"));
  }
  size_t limit = kDefaultListLimit;
  if (const std::string l = req.query_param("limit"); !l.empty() && (!absl::SimpleAtoi(l, &limit) || limit == 0)) {
    return json_error(400, absl::StrCat("limit '", l, "' is not a positive number"));
  }
  limit = std::min(limit, kMaxListLimit);
  std::vector<SuppressionEntry> entries;
  std::string next;
  SuppressionStore::Reader& r = _suppression->reader();
  if (absl::Status st = r.scan(f, req.query_param("after"), limit, &entries, &next); !st.ok()) {
    return json_error(absl::IsInvalidArgument(st) ? 400 : 503, sv(st.message()));
  }
  const SuppressionCounts counts = r.counts();
  AdminResponse resp;
  std::string& b = resp.body;
  absl::StrAppend(&b, "{\"addresses\":", counts.addresses, ",\"domains\":", counts.domains, ",\"entries\":[");
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) b += ",";
    b += "\n";
    append_entry_json(&b, entries[i]);
  }
  b += "],\"next\":";
  proto::append_json_string(&b, next);
  b += "}\n";
  return resp;
}

AdminResponse AdminApi::check_suppression(const proto::HttpMessage& req, std::string_view address) {
  absl::StatusOr<SuppressionEntry> target = parse_target(address);
  if (!target.ok()) {
    return json_error(400, sv(target.status().message()));
  }
  const std::string tenant = req.query_param("tenant");
  SuppressionEntry e;
  AdminResponse r;
  // A domain: its entry for every tenant, else the tenant's own.
  bool hit = false;
  if (target->domain_only) {
    hit = _suppression->reader().get(*target, &e);
    if (!hit && !tenant.empty()) {
      target->tenant = tenant;
      hit = _suppression->reader().get(*target, &e);
    }
  } else {
    hit = _suppression->reader().find(target->address(), tenant, &e);
  }
  if (!hit) {
    r.status = 404;
    r.body = absl::StrCat("{\"suppressed\":false,\"address\":");
    proto::append_json_string(&r.body, target->address());
    r.body += "}\n";
    return r;
  }
  r.body = "{\"suppressed\":true,\"why\":";
  proto::append_json_string(&r.body, refusal_text(e));
  r.body += ",\"entry\":";
  append_entry_json(&r.body, e);
  r.body += "}\n";
  return r;
}

std::optional<AdminResponse> AdminApi::write_suppressions(std::vector<SuppressionChange> changes,
                                                          AdminRequestRef ref, std::string answer) {
  const uint64_t ticket = _suppression->store().submit(std::move(changes));
  _writes.push_back({ticket, ref, std::move(answer)});
  return std::nullopt;
}

void AdminApi::poll() {
  if (_writes.empty()) {
    return;
  }
  size_t kept = 0;
  for (size_t i = 0; i < _writes.size(); ++i) {
    PendingWrite& w = _writes[i];
    absl::Status error;
    if (!_suppression->store().done(w.ticket, &error)) {
      if (kept != i) _writes[kept] = std::move(w);
      ++kept;
      continue;
    }
    if (error.ok()) {
      AdminResponse r;
      r.body = std::move(w.answer);
      _respond(w.ref, r);
    } else {
      _respond(w.ref, json_error(507, sv(error.message())));
    }
  }
  _writes.resize(kept);
}

}  // namespace ringmta
