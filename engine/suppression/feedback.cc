// engine/suppression/feedback.cc — reading returned DSNs and complaints
// (feedback.h).
#include "engine/suppression/feedback.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"

namespace ringmta {
namespace {

std::string_view domain_of(std::string_view addr) {
  const size_t at = addr.rfind('@');
  return at == std::string_view::npos ? std::string_view() : addr.substr(at + 1);
}

// reply_line: what the classifier reads, "CODE STATUS TEXT": the
// diagnostic when it starts with a reply code, else one built from the
// status ("5.1.1" gives 550, "4.2.2" 450).
std::string reply_line(const proto::ReportedRecipient& rr) {
  const std::string_view d = rr.diagnostic;
  if (d.size() >= 3 && absl::ascii_isdigit(d[0]) && absl::ascii_isdigit(d[1]) && absl::ascii_isdigit(d[2])) {
    return std::string(d);
  }
  const char klass = rr.status.empty() ? '5' : rr.status[0];
  return absl::StrCat(std::string(1, klass), "50 ", av(rr.status), " ", av(d));
}

// Feedback types that are not a complaint about the mail: no suppression.
bool suppressing_feedback_type(std::string_view t) { return t != "not-spam" && t != "auth-failure"; }

}  // namespace

Feedback::Feedback(const ShardContext& ctx, Suppression& suppression, EventLog& events)
    : _ctx(ctx), _suppression(suppression), _events(events) {
  _domains.insert(ctx.config.feedback_domains.begin(), ctx.config.feedback_domains.end());
}

bool Feedback::is_feedback(std::string_view rcpt) const {
  // Recipients' domains are lower case already (the session stores them
  // so): a look-up per recipient per attempt, without a copy.
  return !_domains.empty() && _domains.contains(av(domain_of(rcpt)));
}

std::optional<proto::VerpMatch> Feedback::attribute(const proto::FeedbackReport& r,
                                                    const std::vector<std::string_view>& rcpts) const {
  const Config& c = _ctx.config;
  if (c.feedback_key.empty()) return std::nullopt;
  for (std::string_view rcpt : rcpts) {
    if (auto m = proto::verp_parse(c.feedback_key, c.feedback_verp_prefix, c.feedback_verp_domain, rcpt)) {
      return m;
    }
  }
  for (const std::string* s : {&r.returned.return_path, &r.returned.ringmta_ref}) {
    if (s->empty()) continue;
    if (auto m = proto::verp_parse(c.feedback_key, c.feedback_verp_prefix, c.feedback_verp_domain, *s)) {
      return m;
    }
  }
  return std::nullopt;
}

std::string Feedback::process(const proto::CompletedMessage& m, const std::vector<std::string_view>& rcpts) {
  proto::FeedbackLimits limits;
  const proto::FeedbackReport r = proto::parse_feedback_report(m.body, limits);
  if (r.kind == proto::ReportKind::kNone) {
    ++_stats.dropped;
    return absl::StrCat("dropped: not a report (", av(r.why_not), ")");
  }
  const std::optional<proto::VerpMatch> token = attribute(r, rcpts);
  if (_ctx.config.feedback_verp && !token) {
    // With VERP on, only a report a token vouches for counts.
    ++_stats.unattributed;
    return absl::StrCat("dropped: a ", av(proto::report_kind_name(r.kind)),
                        " report that no VERP token verifies (forged, or not about our mail)");
  }
  const std::string queue_id = token ? token->queue_id : std::string();
  if (r.kind == proto::ReportKind::kFeedback) {
    const std::string& address = token ? token->recipient
                                 : !r.original_rcpt_to.empty() ? r.original_rcpt_to : r.returned.to;
    if (address.empty()) {
      ++_stats.unattributed;
      return "dropped: a complaint that names no recipient (no Original-Rcpt-To, no returned To:)";
    }
    on_complaint(r, address, queue_id);
    return absl::StrCat("complaint (", av(r.feedback_type.empty() ? "abuse" : r.feedback_type), ") about ",
                        av(address));
  }
  size_t failed = 0, delayed = 0;
  for (const proto::ReportedRecipient& rr : r.recipients) {
    if (rr.action != "failed" && rr.action != "delayed") continue;
    // A VERP DSN is about the one recipient its token names, whatever
    // address the remote end reports (a forward, an alias).
    const std::string& address = token ? token->recipient : rr.final_recipient;
    if (address.empty()) continue;
    on_recipient(rr, address, queue_id, r);
    (rr.action == "failed" ? failed : delayed)++;
    if (token) break;
  }
  if (failed + delayed == 0) {
    ++_stats.dropped;
    return "dropped: a delivery status report with no failed or delayed recipient";
  }
  return absl::StrCat("delivery status report: ", failed, " failed, ", delayed, " delayed");
}

void Feedback::on_recipient(const proto::ReportedRecipient& rr, std::string_view address, std::string_view queue_id,
                            const proto::FeedbackReport& r) {
  const bool failed = rr.action == "failed";
  const std::string line = reply_line(rr);
  const BounceClass k = _ctx.config.bounce_classifier != nullptr ? _ctx.config.bounce_classifier->classify(line)
                                                                 : BounceClass::kUncategorized;
  FeedbackEvent e;
  e.type = failed ? "async_bounce" : "async_delayed";
  e.recipient = address;
  e.queue_id = queue_id;
  e.status = rr.status;
  e.response = rr.diagnostic;
  e.bounce_class = bounce_class_name(k);
  e.reporter = r.reporting_mta;
  e.feedback_id = r.returned.feedback_id;
  e.time = absl::Now();
  _events.add(e);
  if (!failed) {
    ++_stats.delays;
    return;
  }
  ++_stats.bounces;
  const auto& classes = _ctx.config.suppression_auto_classes;
  if (!_ctx.config.suppression_auto || std::find(classes.begin(), classes.end(), k) == classes.end() ||
      (!rr.status.empty() && rr.status[0] != '5')) {
    return;
  }
  absl::StatusOr<SuppressionEntry> entry = parse_target(address);
  if (!entry.ok()) return;
  entry->reason = SuppressionReason::kBounce;
  entry->bounce_class = k;
  entry->source = std::string(queue_id);
  entry->note = absl::StrCat("returned DSN: ", line).substr(0, kMaxSuppressionNote);
  _suppression.add(std::move(*entry), "");
}

void Feedback::on_complaint(const proto::FeedbackReport& r, std::string_view address, std::string_view queue_id) {
  ++_stats.complaints;
  FeedbackEvent e;
  e.type = "complaint";
  e.recipient = address;
  e.queue_id = queue_id;
  e.reason = r.feedback_type.empty() ? std::string_view("abuse") : std::string_view(r.feedback_type);
  e.reporter = !r.user_agent.empty() ? r.user_agent : r.reporting_mta;
  e.feedback_id = r.returned.feedback_id;
  e.time = absl::Now();
  _events.add(e);
  if (!suppressing_feedback_type(e.reason)) return;
  absl::StatusOr<SuppressionEntry> entry = parse_target(address);
  if (!entry.ok()) return;
  entry->reason = SuppressionReason::kComplaint;
  entry->source = std::string(queue_id);
  entry->note = absl::StrCat("Feedback-Type: ", av(e.reason), e.reporter.empty() ? "" : " from ", av(e.reporter))
                    .substr(0, kMaxSuppressionNote);
  _suppression.add(std::move(*entry), "");
}

}  // namespace ringmta
