// proto/feedback_report.h — what a report that comes back after delivery
// says: a delivery status notification (RFC 3464; RFC 6533's
// message/global-delivery-status too) or an abuse feedback report (ARF,
// RFC 5965), read from the message as stored.
//
//   FeedbackReport r = parse_feedback_report(content);
//   switch (r.kind) {
//     case ReportKind::kDeliveryStatus:
//       for (const ReportedRecipient& rc : r.recipients) {
//         if (rc.action == "failed") { suppress(rc.final_recipient, rc.status); }
//       }
//       break;
//     case ReportKind::kFeedback:  // a complaint: r.feedback_type == "abuse"
//       unsubscribe(r.original_rcpt_to.empty() ? r.returned.to : r.original_rcpt_to);
//       break;
//     case ReportKind::kNone:      // an auto-reply, a person: r.why_not says why
//       break;
//   }
//
// Which of our messages a report is about comes from the returned headers
// (r.returned: X-Ringmta-Ref, Message-ID, Feedback-ID) or from the address
// the report was sent to, when that is a VERP sender (verp.h). Nothing in a
// report is authenticated: anyone can send one. Act on a recipient only
// when verp_parse() vouched for the address the report came to, or when
// the reference matches a message we sent to that recipient.
//
// Structure: the report is a multipart/report (report-type=delivery-status
// or feedback-report) whose parts are read by type, not position: the
// first message/delivery-status, message/global-delivery-status or
// message/feedback-report part is the report, the first message/rfc822,
// message/global, text/rfc822-headers or message/global-headers part the
// returned message. Some providers wrap the report in a multipart/mixed,
// or send one with no report-type, or a multipart/mixed holding the report
// part directly: all are read, nested up to max_depth multiparts. An ARF
// report without the returned headers is read as far as it goes.
//
// Strangers write these: nothing in the input can make the parse crash or
// take more than linear time, and what it returns is bounded (limits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::proto {

enum class ReportKind : uint8_t { kNone, kDeliveryStatus, kFeedback };

// ReportedRecipient: one per-recipient block of a delivery-status part
// (RFC 3464 2.3). (dsn.h's DsnRecipient is what we write; this is what we
// read.) Values are unfolded and trimmed; "" when absent.
struct ReportedRecipient {
  // The address only: "rfc822; <a@b>" gives "a@b" (the type and the
  // brackets go). A block without a Final-Recipient is not reported.
  std::string final_recipient;
  std::string original_recipient;
  std::string action;      // lower case: failed, delayed, delivered, relayed, expanded
  std::string status;      // "5.1.1": the leading class.subject.detail only
  std::string diagnostic;  // Diagnostic-Code after its type ("smtp; "): "550 5.1.1 <a@b>: user unknown"
  std::string remote_mta;  // Remote-MTA after its type ("dns; ")
};

// ReturnedHeaders: fields of the returned message (or headers part).
// Addresses are the address only ("Name" <a@b> gives a@b), the first of
// a list; the Message-ID is without its <>.
struct ReturnedHeaders {
  std::string to;
  std::string from;
  std::string message_id;
  std::string feedback_id;  // Feedback-ID:
  std::string ringmta_ref;  // X-Ringmta-Ref:
  std::string return_path;  // the VERP sender often comes back here
};

struct FeedbackReport {
  ReportKind kind = ReportKind::kNone;
  // kNone: why, in a few words ("not multipart/report", "no report part",
  // "no delivery-status part", "too many parts", ...).
  std::string why_not;

  // Both kinds: Reporting-MTA after its type; Arrival-Date (ARF:
  // Received-Date when there is no Arrival-Date).
  std::string reporting_mta;
  std::string arrival_date;

  // kDeliveryStatus: the per-recipient blocks in order (may be empty when
  // the part holds none: the returned headers may still say whom it is
  // about).
  std::vector<ReportedRecipient> recipients;

  // kFeedback (RFC 5965 3.1).
  std::string feedback_type;       // lower case: abuse, fraud, virus, other, not-spam, auth-failure
  std::string original_rcpt_to;    // the first Original-Rcpt-To, address only
  std::string original_mail_from;  // address only
  std::string user_agent;
  std::string source_ip;
  std::string reported_domain;  // the first Reported-Domain

  ReturnedHeaders returned;
};

struct FeedbackLimits {
  size_t max_parts = 32;         // body parts read, all levels together
  size_t max_depth = 4;          // multiparts nested (the message's own is 1; at most 64)
  size_t max_recipients = 1000;  // recipient blocks kept; later ones are not read
  // Octets of each value returned: text is cut (at a UTF-8 boundary), an
  // address longer than this is dropped ("").
  size_t max_field = 998;
  // Octets decoded from a base64 or quoted-printable report or headers
  // part (a prefix: what is past it is not read).
  size_t max_decoded = 1024 * 1024;
};

// parse_feedback_report reads one whole message (header section, empty
// line, body; CRLF or bare LF line ends).
FeedbackReport parse_feedback_report(std::string_view message, const FeedbackLimits& limits = {});

// report_kind_name: "none", "delivery-status", "feedback" (logs, events).
std::string_view report_kind_name(ReportKind kind);

}  // namespace ringmta::proto
