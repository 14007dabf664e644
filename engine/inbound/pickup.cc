// engine/inbound/pickup.cc — maildrop files into the spool (pickup.h).
#include "engine/inbound/pickup.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/inbound/pickup_message.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "engine/suppression/suppression.h"
#include "spool/maildrop.h"

namespace ringmta {

void Pickup::poll() {
  // Stopping: what is read stays in the maildrop for the next start.
  if (_ctx.stopping || !_reader.ready()) {
    return;
  }
  for (MaildropReader::File& f : _reader.take()) {
    start(f);
  }
}

void Pickup::start(MaildropReader::File& f) {
  absl::StatusOr<spool::MaildropMessage> parsed = spool::parse_maildrop(f.bytes);
  if (!parsed.ok()) {
    _reader.finish(std::move(f.name), MaildropReader::Outcome::kBad, std::string(parsed.status().message()));
    return;
  }
  spool::MaildropEnvelope& env = parsed->envelope;
  std::vector<std::string> suppressed;
  if (_suppression != nullptr) {
    std::erase_if(env.recipients, [&](const std::string& r) {
      std::string why = _suppression->refusal_reason(r, "");
      if (why.empty()) return false;
      suppressed.push_back(absl::StrCat(r, ": ", why));
      return true;
    });
  }
  const Config& cfg = _ctx.config;
  PickupOptions o;
  o.hostname = cfg.hostname;
  o.now = absl::Now();
  o.max_message_size = cfg.max_message_size;
  o.max_recipients = cfg.max_recipients;
  o.max_text_line = cfg.max_text_line;
  o.require_list_unsubscribe = cfg.require_list_unsubscribe;
  o.postmaster = cfg.postmaster;
  o.new_queue_id = [this] { return _store.new_queue_id(); };
  PickupBuild built = build_pickup_messages(*parsed, o);
  built.refused.insert(built.refused.end(), suppressed.begin(), suppressed.end());
  for (const std::string& r : built.refused) {
    log_warn("pickup: %s: recipient left out: %s", f.name, r);
  }
  if (!built.error.empty()) {
    _reader.finish(std::move(f.name), MaildropReader::Outcome::kBad, built.error);
    return;
  }
  const uint32_t id = _next_id;
  _next_id = (_next_id + 1) & (kPickupSlotBit - 1);
  Pending& p = _pending[id];
  p.name = std::move(f.name);
  size_t rcpts = 0;
  for (const auto& m : built.messages) {
    p.queue_ids.push_back(m->queue_id);
    rcpts += m->envelope.recipients.size();
  }
  p.summary = absl::StrCat("from <", env.sender, "> to ", rcpts, rcpts == 1 ? " recipient" : " recipients",
                           env.origin.empty() ? "" : absl::StrCat(" (", env.origin, ")"));
  p.outstanding = built.messages.size();
  for (uint32_t i = 0; i < built.messages.size(); ++i) {
    _signing.submit(std::move(built.messages[i]), id | kPickupSlotBit, i);
  }
}

void Pickup::on_stored(uint32_t slot, uint32_t gen, bool ok) {
  auto it = _pending.find(slot & ~kPickupSlotBit);
  if (it == _pending.end() || gen >= it->second.queue_ids.size()) {
    return;
  }
  Pending& p = it->second;
  p.failed |= !ok;
  if (--p.outstanding > 0) {
    return;
  }
  if (p.failed) {
    log_warn("pickup: %s: the spool write failed; the file stays in the maildrop and is read again", p.name);
    _reader.finish(std::move(p.name), MaildropReader::Outcome::kRetry, "");
  } else {
    log_info("pickup: %s %s queued as %s", p.name, p.summary, absl::StrJoin(p.queue_ids, ","));
    _reader.finish(std::move(p.name), MaildropReader::Outcome::kStored, "");
  }
  _pending.erase(it);
}

}  // namespace ringmta
