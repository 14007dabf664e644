// engine/delivery/delivery.cc — taking messages on (new, adopted, read
// back) and handing their recipients to the shards that own their
// destinations (delivery.h).
#include "engine/delivery/delivery.h"

#include <algorithm>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/delivery/nexthop.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

std::string_view domain_of(std::string_view addr) {
  size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

}  // namespace

const EgressPool* Delivery::pool_of(const proto::Envelope& e) const {
  const Egress& egress = _ctx.config.egress;
  if (egress.empty()) {
    return nullptr;
  }
  std::string sender_domain;
  if (!egress.pool_by_sender_domain.empty()) {
    sender_domain = absl::AsciiStrToLower(av(domain_of(e.sender)));
  }
  return egress.pool_for(e.pool, sender_domain);
}

std::unique_ptr<LiveMessage> live_from_recovered(const spool::RecoveredMessage& r, DomainIds& domains) {
  auto lm = std::make_unique<LiveMessage>();
  lm->record = SpoolRef{r.record_offset, static_cast<uint32_t>(r.record_size), SpoolRef::kRecovered | r.segment};
  lm->id = QueueIdKey(r.queue_id);
  lm->is_dsn = r.envelope.sender.empty();
  for (size_t i = 0; i < r.rcpt_state.size(); ++i) {
    const spool::RecipientState& st = r.rcpt_state[i];
    const bool live = !spool::is_final(st.status) && i < r.envelope.recipients.size();
    lm->rcpts.push_back(RcptState{.status = st.status,
                                  .attempts = static_cast<uint16_t>(std::min<uint32_t>(st.attempts, UINT16_MAX)),
                                  .domain = live ? domains.acquire(domain_of(r.envelope.recipients[i])) : 0,
                                  .next_retry = st.next_retry});
  }
  // Copied into this shard's own segment as soon as it is read back, so
  // that the segments recovery found can be deleted (recovered_spool.h).
  lm->want_copy = true;
  return lm;
}

Delivery::Delivery(const ShardContext& ctx, MessageTable& table, Store& store, ContentLoader& loader,
                   Retention& retention, MeshOutbox<ShardMessage>& outbox, EventLog& events,
                   const ShapingTables& shaping, Suppression* suppression, Feedback* feedback)
    : _ctx(ctx),
      _table(table),
      _store(store),
      _loader(loader),
      _retention(retention),
      _outbox(outbox),
      _events(events),
      _shaping(shaping),
      _suppression(suppression),
      _feedback(feedback) {}

void Delivery::on_tick(int64_t /*now_ms*/) {
  if (!_ctx.stopping) {
    _retries.pop_due(absl::Now(), [this](uint64_t handle) { attempt(handle); });
  }
}

void Delivery::adopt(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  absl::Time due = absl::InfiniteFuture();
  for (const RcptState& st : lm.rcpts) {
    if (!spool::is_final(st.status)) {
      due = std::min(due, st.status == spool::RcptStatus::kDeferred ? st.next_retry : absl::InfinitePast());
    }
  }
  if (due <= absl::Now()) {
    lm.want_dispatch = true;
  } else {
    _retries.push(due, handle);
  }
  _loader.request_load(handle);  // read once the shard runs, under the memory budget
}

void Delivery::deliver(std::unique_ptr<proto::CompletedMessage> m, SpoolRef ref, bool generated) {
  if (_ctx.config.hold) {
    return;  // spooled; a later start without --hold delivers it
  }
  auto lm = std::make_unique<LiveMessage>();
  lm->rcpts.resize(m->envelope.recipients.size());
  for (size_t i = 0; i < lm->rcpts.size(); ++i) {
    lm->rcpts[i].domain = _table.domains().acquire(domain_of(m->envelope.recipients[i]));
  }
  lm->id = QueueIdKey(m->queue_id);
  lm->record = ref;
  lm->is_dsn = generated || m->envelope.sender.empty();
  const uint64_t bytes = m->trace_headers.size() + m->body.size();
  LiveMessage& live = *lm;
  const uint64_t handle = _table.add(std::move(lm));
  if (ref.valid() && !_loader.fits(bytes)) {
    // Over the budget a new message goes metadata-only too: read back
    // from the spool when its turn comes (then a message is let in even
    // past the budget if nothing else is in memory, so nothing starves).
    live.want_dispatch = true;
    _loader.request_load(handle);
    return;
  }
  _loader.hold(bytes);
  live.msg = std::move(m);
  dispatch_now(handle);
}

// attempt delivers the recipients that are due, reading the message back
// first if only its metadata is in memory.
void Delivery::attempt(uint64_t handle) {
  LiveMessage* lm = _table.find(handle);
  if (lm == nullptr || lm->jobs_out != 0) {
    return;
  }
  if (lm->msg) {
    dispatch_now(handle);
    return;
  }
  lm->want_dispatch = true;
  _loader.request_load(handle);
}

void Delivery::on_loaded(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  if (lm.want_copy) {
    _retention.append_copy(handle);
  }
  if (!_shows.empty()) {
    answer_shows(handle);
  }
  if (!_admin_bounces.empty() && apply_admin_bounce(handle)) {
    lm.want_dispatch = false;  // bounced instead
    return;
  }
  if (lm.want_dispatch) {
    lm.want_dispatch = false;
    dispatch_now(handle);
    return;
  }
  if (lm.jobs_out == 0) {
    _loader.drop_body(lm);
  }
}

void Delivery::on_load_failed(uint64_t handle) {
  if (!_shows.empty()) {
    answer_shows(handle);  // with what is in memory
  }
  // An administrative bounce needs the envelope: one that cannot be read
  // back is not done (the operator sees the message still queued).
  _admin_bounces.erase(handle);
  LiveMessage& lm = _table.at(handle);
  if (lm.want_dispatch) {
    lm.want_dispatch = false;
    _retries.push(absl::Now() + absl::Seconds(static_cast<int64_t>(_ctx.config.retry_min_s)), handle);
  }
}

// dispatch_now: dispatch, and if nothing turned out to be due, back to
// waiting (metadata-only).
void Delivery::dispatch_now(uint64_t handle) {
  dispatch(handle);
  LiveMessage& lm = _table.at(handle);
  if (lm.jobs_out == 0) {
    if (lm.want_copy) {
      _retention.append_copy(handle);
    }
    _loader.drop_body(lm);
    schedule_retry(handle, lm);
  }
}

// dispatch needs the content in memory (attempt() sees to it). The jobs
// borrow it (delivery_job.h): it stays while jobs_out is not zero.
void Delivery::dispatch(uint64_t handle) {
  LiveMessage& lm = _table.at(handle);
  const proto::CompletedMessage& m = *lm.msg;
  const absl::Time now = absl::Now();
  absl::flat_hash_map<std::string, DeliveryJob> jobs;
  DeliveryResult local;  // recipients that need no remote attempt
  local.message = handle;
  std::vector<uint32_t> feedback;  // recipients at the feedback domains
  // One egress source per message and attempt, by the pool's weights.
  const EgressPool* pool = pool_of(m.envelope);
  const EgressSource* source = pool != nullptr ? &_pools.next(*pool, _ctx.config.egress) : nullptr;
  for (uint32_t i = 0; i < lm.rcpts.size(); ++i) {
    const RcptState& st = lm.rcpts[i];
    if (spool::is_final(st.status) || (st.status == spool::RcptStatus::kDeferred && st.next_retry > now)) {
      continue;
    }
    std::string_view domain = domain_of(m.envelope.recipients[i]);
    if (domain.empty()) {
      // <postmaster> without a domain: ringmta has no local mailboxes.
      RcptOutcome o{i, Outcome::kBounced, 550, "5.1.1",
                    "local delivery is not supported (no domain in the address)", "", ""};
      o.internal = true;
      local.outcomes.push_back(std::move(o));
      continue;
    }
    if (_feedback != nullptr && _feedback->is_feedback(m.envelope.recipients[i])) {
      feedback.push_back(i);  // ours: read below, never relayed
      continue;
    }
    if (_suppression != nullptr) {
      if (const SuppressionEntry* e = _suppression->check(m.envelope.recipients[i], m.envelope.tenant)) {
        // Suppressed since it was queued, or accepted in drop mode, or by
        // an entry for this message's tenant: never tried (suppression.h).
        RcptOutcome o{i, Outcome::kBounced, 550, "5.7.1", refusal_text(*e), "", ""};
        o.internal = true;
        o.suppressed = true;
        o.no_dsn = true;
        local.outcomes.push_back(std::move(o));
        continue;
      }
    }
    Nexthop nh = nexthop_for(domain, _ctx.config);
    std::string key = destination_key(nh);
    // One job per nexthop; for a fixed host, a domain with a shaping rule
    // gets a job of its own, so that its rule can find it on the site.
    std::string ruled;
    if (!nh.use_mx && _shaping.current().rule_for(domain) != nullptr) {
      ruled = absl::StrCat(key, "\n", av(domain));
    }
    auto [it, fresh] = jobs.try_emplace(ruled.empty() ? key : ruled);
    DeliveryJob& job = it->second;
    if (fresh) {
      job.origin = _ctx.id;
      job.handle = handle;
      job.dest_key = std::move(key);
      job.nexthop = std::move(nh);
      job.domain = std::string(domain);
      job.source = source;
      job.pool = pool;
      job.message = MessageLoan(m);
      job.verp = _ctx.config.feedback_verp && !lm.is_dsn;
    } else if (job.domain != domain) {
      job.domain.clear();  // a relay host's job for several domains
    }
    job.rcpts.push_back(i);
    job.attempts.push_back(st.attempts + 1);
  }
  if (!feedback.empty()) {
    std::vector<std::string_view> addresses;
    for (uint32_t i : feedback) addresses.push_back(m.envelope.recipients[i]);
    const std::string what = _feedback->process(m, addresses);
    for (uint32_t i : feedback) {
      RcptOutcome o{i, Outcome::kDelivered, 250, "2.0.0", what, "", ""};
      o.internal = true;
      o.feedback = true;
      local.outcomes.push_back(std::move(o));
    }
  }
  for (auto& [group, job] : jobs) {
    ++lm.jobs_out;
    unsigned owner = static_cast<unsigned>(std::hash<std::string_view>{}(job.dest_key) % _outbox.shards());
    _outbox.send(owner, std::move(job));
  }
  if (!local.outcomes.empty()) {
    ++lm.jobs_out;
    _outbox.send(_ctx.id, std::move(local));
  }
}

}  // namespace ringmta
