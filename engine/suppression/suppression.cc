// engine/suppression/suppression.cc — a shard's refusals, checks and
// automatic entries (suppression.h).
#include "engine/suppression/suppression.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"

namespace ringmta {

Suppression::Suppression(const ShardContext& ctx, SuppressionStore& store, EventLog& events)
    : _ctx(ctx), _store(store), _events(events), _reader(store.reader()) {}

const SuppressionEntry* Suppression::check(std::string_view rcpt, std::string_view tenant) {
  ++_stats.lookups;
  return _reader->find(rcpt, tenant, &_found) ? &_found : nullptr;
}

std::string Suppression::rcpt_refusal(std::string_view rcpt) {
  if (_ctx.config.suppression_drop) {
    return {};
  }
  const SuppressionEntry* e = check(rcpt, "");
  if (e == nullptr) {
    return {};
  }
  ++_stats.refused;
  return absl::StrCat("550 5.7.1 <", av(rcpt), ">: ", refusal_text(*e));
}

std::string Suppression::refusal_reason(std::string_view rcpt, std::string_view tenant) {
  if (_ctx.config.suppression_drop) {
    return {};
  }
  const SuppressionEntry* e = check(rcpt, tenant);
  if (e == nullptr) {
    return {};
  }
  ++_stats.refused;
  return refusal_text(*e);
}

void Suppression::on_bounce(std::string_view queue_id, std::string_view rcpt, std::string_view campaign,
                            BounceClass c, int code, std::string_view status, std::string_view text) {
  const auto& classes = _ctx.config.suppression_auto_classes;
  if (!_ctx.config.suppression_auto || std::find(classes.begin(), classes.end(), c) == classes.end()) {
    return;
  }
  absl::StatusOr<SuppressionEntry> e = parse_target(rcpt);
  if (!e.ok()) {
    return;  // <postmaster> without a domain, say: nothing to suppress
  }
  e->reason = SuppressionReason::kBounce;
  e->bounce_class = c;
  e->source = std::string(queue_id);
  e->note = absl::StrCat(code, " ", av(status), status.empty() ? "" : " ", av(text)).substr(0, kMaxSuppressionNote);
  add(std::move(*e), campaign);
}

bool Suppression::add(SuppressionEntry e, std::string_view campaign) {
  std::string key = entry_key(e);
  SuppressionEntry existing;
  if (key.size() > kMaxSuppressionKey || _pending_keys.contains(key) || _reader->get(e, &existing)) {
    return false;
  }
  e.time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  // An entry already there by the time it commits (made meanwhile, on
  // another shard) stays: the first reason is the one an operator wants.
  const uint64_t ticket = _store.submit({SuppressionChange{SuppressionChange::kPutIfAbsent, e}});
  _pending.push_back({ticket, std::move(e), std::string(campaign)});
  _pending_keys.insert(std::move(key));
  return true;
}

void Suppression::poll() {
  if (_pending.empty()) {
    return;
  }
  size_t kept = 0;
  for (size_t i = 0; i < _pending.size(); ++i) {
    Pending& p = _pending[i];
    absl::Status error;
    if (!_store.done(p.ticket, &error)) {
      if (kept != i) _pending[kept] = std::move(p);
      ++kept;
      continue;
    }
    _pending_keys.erase(entry_key(p.entry));
    if (!error.ok()) {
      ++_stats.add_failures;
      log_warn("suppression: %s was not added: %s", p.entry.address(), sv(error.message()));
      continue;
    }
    ++_stats.added;
    const std::string address = p.entry.address();
    FeedbackEvent ev;
    ev.type = "suppression_added";
    ev.recipient = address;
    ev.queue_id = p.entry.source;
    ev.tenant = p.entry.tenant;
    ev.campaign = p.campaign;
    ev.reason = suppression_reason_name(p.entry.reason);
    ev.response = p.entry.note;
    ev.bounce_class = bounce_class_name(p.entry.bounce_class);
    ev.time = p.entry.time;
    _events.add(ev);
  }
  _pending.resize(kept);
}

}  // namespace ringmta
