// engine/suppression/suppression.cc — a shard's refusals, checks and
// automatic entries (suppression.h).
#include "engine/suppression/suppression.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"

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
  SuppressionEntry existing;
  if (_reader->get(e, &existing)) {
    return false;
  }
  e.time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const std::string address = e.address();
  FeedbackEvent ev;
  ev.type = "suppression_added";
  ev.recipient = address;
  ev.queue_id = e.source;
  ev.tenant = e.tenant;
  ev.campaign = campaign;
  ev.reason = suppression_reason_name(e.reason);
  ev.response = e.note;
  ev.bounce_class = bounce_class_name(e.bounce_class);
  ev.time = e.time;
  _events.add(ev);
  ++_stats.added;
  // An entry already there (made since the look above, on another shard)
  // stays: the first reason is the one an operator wants to see.
  _store.submit({SuppressionChange{SuppressionChange::kPutIfAbsent, std::move(e)}});
  return true;
}

}  // namespace ringmta
