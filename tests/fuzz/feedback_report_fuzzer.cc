// tests/fuzz/feedback_report_fuzzer.cc — libFuzzer harness for
// parse_feedback_report (with mime_read under it) and the VERP senders:
// what comes back after delivery is written by strangers.
//
// Input: a whole message as stored. Whatever it holds, under the default
// limits and under small ones:
//   - every value is at most max_field octets with no control octet, and
//     there are at most max_recipients recipients, none without an address;
//   - kind is kNone exactly when why_not says why.
// Its first line is also read as a VERP address (it must not verify
// unless verp_sender() could have made it) and as a recipient: when a
// sender can be made for it, it is at most kMaxVerpSender octets and
// parses back to the same queue id and recipient, in any case.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "proto/feedback_report.h"
#include "proto/verp.h"

namespace {

using ringmta::proto::FeedbackLimits;
using ringmta::proto::FeedbackReport;
using ringmta::proto::ReportKind;

constexpr std::string_view kSecret = "fuzz secret";
constexpr std::string_view kPrefix = "bounces";
constexpr std::string_view kDomain = "bounces.example";
constexpr std::string_view kQueueId = "0123456789ABCDEF";

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_value(const std::string& v, const FeedbackLimits& limits) {
  check(v.size() <= limits.max_field);
  for (char c : v) {
    const unsigned char u = static_cast<unsigned char>(c);
    check(u >= 32 && u != 127);
  }
}

void check_report(const FeedbackReport& r, const FeedbackLimits& limits) {
  check((r.kind == ReportKind::kNone) == !r.why_not.empty());
  for (const std::string* s :
       {&r.reporting_mta, &r.arrival_date, &r.feedback_type, &r.original_rcpt_to, &r.original_mail_from,
        &r.user_agent, &r.source_ip, &r.reported_domain, &r.returned.to, &r.returned.from,
        &r.returned.message_id, &r.returned.feedback_id, &r.returned.ringmta_ref, &r.returned.return_path}) {
    check_value(*s, limits);
  }
  check(r.recipients.size() <= limits.max_recipients);
  for (const auto& rc : r.recipients) {
    check(!rc.final_recipient.empty());
    for (const std::string* s : {&rc.final_recipient, &rc.original_recipient, &rc.action, &rc.status,
                                 &rc.diagnostic, &rc.remote_mta}) {
      check_value(*s, limits);
    }
  }
  if (r.kind == ReportKind::kNone) {
    check(r.recipients.empty() && r.feedback_type.empty() && r.returned.to.empty());
  }
}

std::string case_flipped(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 32);
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + 32);
    }
  }
  return out;
}

void check_verp(std::string_view line) {
  if (std::optional<ringmta::proto::VerpMatch> m =
          ringmta::proto::verp_parse(kSecret, kPrefix, kDomain, line)) {
    // Only what verp_sender() makes verifies (the fuzzer cannot forge
    // 80 bits; a match is a seed made with this secret).
    const std::string again =
        ringmta::proto::verp_sender(kSecret, kPrefix, kDomain, m->queue_id, m->recipient);
    check(!again.empty());
    check(ringmta::proto::verp_parse(kSecret, kPrefix, kDomain, again).has_value());
  }
  const std::string sender = ringmta::proto::verp_sender(kSecret, kPrefix, kDomain, kQueueId, line);
  if (sender.empty()) {
    return;
  }
  check(sender.size() <= ringmta::proto::kMaxVerpSender);
  const size_t at = line.rfind('@');
  std::string expected(line.substr(0, at + 1));
  for (char c : line.substr(at + 1)) {
    expected.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  std::optional<ringmta::proto::VerpMatch> m = ringmta::proto::verp_parse(kSecret, kPrefix, kDomain, sender);
  check(m.has_value() && m->queue_id == kQueueId && m->recipient == expected);
  m = ringmta::proto::verp_parse(kSecret, kPrefix, kDomain, case_flipped(sender));
  check(m.has_value() && m->queue_id == kQueueId && m->recipient == case_flipped(expected));
  check(!ringmta::proto::verp_parse("other secret", kPrefix, kDomain, sender).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const FeedbackLimits defaults;
  check_report(ringmta::proto::parse_feedback_report(in, defaults), defaults);
  const FeedbackLimits small{
      .max_parts = 4, .max_depth = 2, .max_recipients = 2, .max_field = 12, .max_decoded = 256};
  check_report(ringmta::proto::parse_feedback_report(in, small), small);
  std::string_view line = in.substr(0, in.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  check_verp(line);
  return 0;
}
