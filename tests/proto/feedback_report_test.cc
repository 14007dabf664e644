// tests/proto/feedback_report_test.cc — reports that come back: the RFC
// 3464 and RFC 5965 examples, Postfix's DSN, providers' variants (base64,
// nested in multipart/mixed, RFC 6533), ringmta's own DSNs read back, what
// is not a report, and malformed or hostile input against the limits.
//
// The messages are in feedback/*.eml with LF line ends; each is read both
// as CRLF (as the spool stores it) and with bare LF, which must agree.
#include "proto/feedback_report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "proto/dsn.h"

namespace ringmta::proto {
namespace {

std::string read_eml(const std::string& name) {
  std::ifstream in(std::string(RINGMTA_FEEDBACK_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// cat and replace_all: absl's take absl::string_view, which Debian's
// abseil does not make from a std::string_view.
std::string cat(std::initializer_list<std::string_view> pieces) {
  std::string out;
  for (std::string_view p : pieces) {
    out.append(p);
  }
  return out;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(text.substr(pos, hit - pos)).append(to);
  }
  out.append(text.substr(pos));
  return out;
}

std::string crlf(std::string_view lf) { return replace_all(lf, "\n", "\r\n"); }

// dump writes every field, to compare two parses.
std::string dump(const FeedbackReport& r) {
  std::string out = cat({report_kind_name(r.kind), "|", r.why_not,       "|", r.reporting_mta,    "|",
                         r.arrival_date,           "|", r.feedback_type, "|", r.original_rcpt_to, "|",
                         r.original_mail_from,     "|", r.user_agent,    "|", r.source_ip,        "|",
                         r.reported_domain,        "\n"});
  for (const ReportedRecipient& rc : r.recipients) {
    out += cat({rc.final_recipient, "|", rc.original_recipient, "|", rc.action, "|", rc.status, "|",
                rc.diagnostic, "|", rc.remote_mta, "\n"});
  }
  const ReturnedHeaders& h = r.returned;
  out += cat({h.to, "|", h.from, "|", h.message_id, "|", h.feedback_id, "|", h.ringmta_ref, "|",
              h.return_path, "\n"});
  return out;
}

FeedbackReport parse_file(const std::string& name) {
  const std::string lf = read_eml(name);
  FeedbackReport r = parse_feedback_report(crlf(lf));
  EXPECT_EQ(dump(r), dump(parse_feedback_report(lf))) << name << ": CRLF and LF differ";
  return r;
}

// report builds a multipart/report around a delivery-status body and the
// returned headers.
std::string report(std::string_view status, std::string_view returned = "",
                   std::string_view status_headers = "Content-Type: message/delivery-status\r\n") {
  std::string m =
      "From: MAILER-DAEMON@mx.test\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n"
      "--BB\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--BB\r\n";
  m += cat({status_headers, "\r\n", status, "\r\n"});
  if (!returned.empty()) {
    m += cat({"--BB\r\nContent-Type: text/rfc822-headers\r\n\r\n", returned, "\r\n"});
  }
  m += "--BB--\r\n";
  return m;
}

constexpr std::string_view kOneRecipient =
    "Reporting-MTA: dns; mx.test\r\n\r\n"
    "Final-Recipient: rfc822; a@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n";

void expect_bounded(const FeedbackReport& r, const FeedbackLimits& limits = {}) {
  for (const std::string* s :
       {&r.reporting_mta, &r.arrival_date, &r.feedback_type, &r.original_rcpt_to, &r.original_mail_from,
        &r.user_agent, &r.source_ip, &r.reported_domain, &r.returned.to, &r.returned.from,
        &r.returned.message_id, &r.returned.feedback_id, &r.returned.ringmta_ref, &r.returned.return_path}) {
    EXPECT_LE(s->size(), limits.max_field);
  }
  EXPECT_LE(r.recipients.size(), limits.max_recipients);
  for (const ReportedRecipient& rc : r.recipients) {
    EXPECT_FALSE(rc.final_recipient.empty());
    EXPECT_LE(rc.final_recipient.size(), limits.max_field);
    EXPECT_LE(rc.diagnostic.size(), limits.max_field);
  }
  EXPECT_EQ(r.kind == ReportKind::kNone, !r.why_not.empty());
}

TEST(FeedbackReportTest, Rfc3464SimpleDsn) {
  FeedbackReport r = parse_file("rfc3464_simple.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.why_not, "");
  EXPECT_EQ(r.reporting_mta, "cs.utk.edu");
  ASSERT_EQ(r.recipients.size(), 1u);
  const ReportedRecipient& rc = r.recipients[0];
  EXPECT_EQ(rc.final_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(rc.original_recipient, "louisl@larry.slip.umd.edu");
  EXPECT_EQ(rc.action, "failed");
  EXPECT_EQ(rc.status, "4.0.0");
  EXPECT_EQ(rc.diagnostic, "426 connection timed out");
  EXPECT_EQ(rc.remote_mta, "");
  // "[original message goes here]": no header section to read.
  EXPECT_EQ(r.returned.to, "");
  EXPECT_EQ(r.returned.message_id, "");
}

TEST(FeedbackReportTest, Rfc3464MultipleRecipients) {
  FeedbackReport r = parse_file("rfc3464_multi.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  ASSERT_EQ(r.recipients.size(), 3u);
  EXPECT_EQ(r.recipients[0].final_recipient, "arathib@vnet.ibm.com");
  EXPECT_EQ(r.recipients[0].action, "failed");
  EXPECT_EQ(r.recipients[0].status, "5.0.0");  // "(permanent failure)" is not kept
  EXPECT_EQ(r.recipients[0].diagnostic, "550 'arathib@vnet.IBM.COM' is not a registered gateway user");
  EXPECT_EQ(r.recipients[0].remote_mta, "vnet.ibm.com");
  EXPECT_EQ(r.recipients[1].final_recipient, "johnh@hpnjld.njd.hp.com");
  EXPECT_EQ(r.recipients[1].action, "delayed");
  EXPECT_EQ(r.recipients[1].status, "4.0.0");
  EXPECT_EQ(r.recipients[1].diagnostic, "");
  EXPECT_EQ(r.recipients[2].final_recipient, "wsnell@sdcc13.ucsd.edu");
  EXPECT_EQ(r.recipients[2].diagnostic, "550 user unknown");
  EXPECT_EQ(r.recipients[2].remote_mta, "sdcc13.ucsd.edu");
}

TEST(FeedbackReportTest, DelayedWithReturnedHeaders) {
  FeedbackReport r = parse_file("rfc3464_delayed.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "sun2.nsfnet-relay.ac.uk");
  EXPECT_EQ(r.arrival_date, "Wed, 6 Jul 1994 10:22:43 +0100");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].action, "delayed");
  EXPECT_EQ(r.recipients[0].status, "4.0.0");
  EXPECT_EQ(r.returned.to, "thomas@de-montfort.ac.uk");
  EXPECT_EQ(r.returned.from, "sender@example.org");
  EXPECT_EQ(r.returned.message_id, "9407061022.AA00001@example.org");
}

TEST(FeedbackReportTest, PostfixDsn) {
  FeedbackReport r = parse_file("postfix.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "mail.example.com");
  EXPECT_EQ(r.arrival_date, "Mon, 2 Mar 2026 10:00:03 +0000 (UTC)");
  ASSERT_EQ(r.recipients.size(), 1u);
  const ReportedRecipient& rc = r.recipients[0];
  EXPECT_EQ(rc.final_recipient, "nobody@example.com");
  EXPECT_EQ(rc.original_recipient, "nobody@example.com");
  EXPECT_EQ(rc.action, "failed");
  EXPECT_EQ(rc.status, "5.1.1");
  EXPECT_EQ(rc.remote_mta, "mx.example.com");
  EXPECT_EQ(rc.diagnostic,
            "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient "
            "table");
  EXPECT_EQ(r.returned.to, "nobody@example.com");
  EXPECT_EQ(r.returned.from, "news@sender.test");
  EXPECT_EQ(r.returned.message_id, "0123456789ABCDEF.1@sender.test");
  EXPECT_EQ(r.returned.feedback_id, "march:news:tenant7:ringmta");
  EXPECT_EQ(r.returned.ringmta_ref, "tenant7/campaign-march/0123456789ABCDEF");
  EXPECT_EQ(r.returned.return_path,
            "bounces+k7q2m9x3a1b4c5d6=0123456789ABCDEF=nobody=example.com@bounces.sender.test");
}

TEST(FeedbackReportTest, PostfixDsnWithHeadersOnly) {
  FeedbackReport r = parse_file("postfix_headers.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].diagnostic, "550 5.1.1 User unknown");
  EXPECT_EQ(r.returned.to, "nobody@example.com");  // "Nobody, Jr." <...>, other@...
  EXPECT_EQ(r.returned.from, "news@sender.test");
  EXPECT_EQ(r.returned.return_path, "news@sender.test");
  EXPECT_EQ(r.returned.ringmta_ref, "tenant7/campaign-march/0123456789ABCDEF");
}

TEST(FeedbackReportTest, Rfc5965Example) {
  FeedbackReport r = parse_file("arf_rfc5965.eml");
  ASSERT_EQ(r.kind, ReportKind::kFeedback) << r.why_not;
  EXPECT_EQ(r.feedback_type, "abuse");
  EXPECT_EQ(r.user_agent, "SomeGenerator/1.0");
  EXPECT_EQ(r.original_mail_from, "somespammer@example.net");
  EXPECT_EQ(r.original_rcpt_to, "user@example.com");
  EXPECT_EQ(r.arrival_date, "Thu, 8 Mar 2005 14:00:00 EDT");
  EXPECT_EQ(r.reporting_mta, "mail.example.com");
  EXPECT_EQ(r.source_ip, "192.0.2.1");
  EXPECT_EQ(r.reported_domain, "example.net");
  EXPECT_TRUE(r.recipients.empty());
  EXPECT_EQ(r.returned.from, "somespammer@example.net");
  EXPECT_EQ(r.returned.to, "");  // "<Undisclosed Recipients>" is no address
  EXPECT_EQ(r.returned.message_id, "8787KJKJ3K4J3K4J3K4J3.mail@example.net");
}

TEST(FeedbackReportTest, ArfWithHeadersPart) {
  // Upper-case type and parameter names, a comment, a token boundary.
  FeedbackReport r = parse_file("arf_headers.eml");
  ASSERT_EQ(r.kind, ReportKind::kFeedback) << r.why_not;
  EXPECT_EQ(r.feedback_type, "abuse");
  EXPECT_EQ(r.user_agent, "MailboxFBL/2.1");
  EXPECT_EQ(r.arrival_date, "Tue, 3 Mar 2026 08:10:02 +0000");  // from Received-Date
  EXPECT_EQ(r.source_ip, "198.51.100.7");
  EXPECT_EQ(r.reported_domain, "sender.test");
  EXPECT_EQ(r.original_rcpt_to, "");
  EXPECT_EQ(r.returned.to, "redacted@mailbox.test");
  EXPECT_EQ(r.returned.from, "news@sender.test");
  EXPECT_EQ(r.returned.message_id, "00000000000000AB.1@sender.test");
  EXPECT_EQ(r.returned.feedback_id, "march:news:tenant7:ringmta");
  EXPECT_EQ(r.returned.ringmta_ref, "tenant7/campaign-march/00000000000000AB");
  EXPECT_EQ(r.returned.return_path,
            "bounces+abcdefghijklmnop=00000000000000AB=redacted=mailbox.test@bounces.sender.test");
}

TEST(FeedbackReportTest, ArfWithoutReturnedHeaders) {
  FeedbackReport r = parse_file("arf_no_headers.eml");
  ASSERT_EQ(r.kind, ReportKind::kFeedback) << r.why_not;
  EXPECT_EQ(r.feedback_type, "not-spam");
  EXPECT_EQ(r.original_rcpt_to, "complainer@isp.test");
  EXPECT_EQ(r.returned.to, "");
  EXPECT_EQ(r.returned.message_id, "");
}

TEST(FeedbackReportTest, Base64DeliveryStatusAndQuotedPrintableHeaders) {
  FeedbackReport r = parse_file("dsn_base64.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "mx1.big-provider.test");
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].final_recipient, "gone@big-provider.test");
  EXPECT_EQ(r.recipients[0].status, "5.2.1");
  EXPECT_EQ(r.recipients[0].diagnostic, "550 5.2.1 The email account that you tried to reach is disabled.");
  EXPECT_EQ(r.recipients[1].final_recipient, "full@big-provider.test");
  EXPECT_EQ(r.recipients[1].action, "delayed");
  EXPECT_EQ(r.recipients[1].status, "4.2.2");
  EXPECT_EQ(r.returned.from, "news@sender.test");  // news=40sender.test
  EXPECT_EQ(r.returned.to, "gone@big-provider.test");
  EXPECT_EQ(r.returned.message_id, "0000000000000ABC.1@sender.test");
}

TEST(FeedbackReportTest, NestedInMultipartMixed) {
  FeedbackReport r = parse_file("nested_mixed.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "relay.provider.test");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].final_recipient, "Someone@Provider.Test");
  EXPECT_EQ(r.recipients[0].action, "failed");
  EXPECT_EQ(r.recipients[0].diagnostic, "550 5.4.1 Recipient address rejected: Access denied");
  EXPECT_EQ(r.returned.message_id, "0000000000000DEF.1@sender.test");
  // Two levels: too deep when only one is allowed.
  FeedbackLimits one{.max_depth = 1};
  FeedbackReport shallow = parse_feedback_report(crlf(read_eml("nested_mixed.eml")), one);
  EXPECT_EQ(shallow.kind, ReportKind::kNone);
  EXPECT_EQ(shallow.why_not, "nested too deeply");
}

TEST(FeedbackReportTest, ReportPartDirectlyInMultipartMixed) {
  FeedbackReport r = parse_file("mixed_direct.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].final_recipient, "left@old-mta.test");
  EXPECT_EQ(r.recipients[0].status, "5.1.1");
}

TEST(FeedbackReportTest, GlobalDeliveryStatus) {
  FeedbackReport r = parse_file("global_dsn.eml");
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "mx.例え.test");
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].final_recipient, "用户@例え.test");
  EXPECT_EQ(r.recipients[0].diagnostic, "550 5.1.1 用户@例え.test: unknown user");
  EXPECT_EQ(r.returned.to, "用户@例え.test");
}

TEST(FeedbackReportTest, NotReports) {
  FeedbackReport r = parse_file("autoreply.eml");
  EXPECT_EQ(r.kind, ReportKind::kNone);
  EXPECT_EQ(r.why_not, "not multipart/report");
  r = parse_file("mixed_no_report.eml");
  EXPECT_EQ(r.kind, ReportKind::kNone);
  EXPECT_EQ(r.why_not, "no report part");
  EXPECT_EQ(r.returned.to, "");  // a message/rfc822 alone is not a report
  for (std::string_view junk : {std::string_view(""), std::string_view("\r\n\r\n"), std::string_view("hello"),
                                std::string_view("\0\0\0", 3)}) {
    r = parse_feedback_report(junk);
    EXPECT_EQ(r.kind, ReportKind::kNone);
    EXPECT_EQ(r.why_not, "not multipart/report");
  }
}

TEST(FeedbackReportTest, OurOwnDsnReadsBack) {
  DsnInput in;
  in.reporting_mta = "mx.sender.test";
  in.original_queue_id = "0123456789ABCDEF";
  in.original_sender = "alice@sender.test";
  in.arrival = absl::FromUnixSeconds(1795341600);
  in.now = in.arrival + absl::Minutes(5);
  in.recipients.push_back({.address = "bob@rcpt.test",
                           .status = "5.1.1",
                           .action = "failed",
                           .remote_mta = "dns; mx.rcpt.test",
                           .diagnostic = "smtp; 550 5.1.1 no such user"});
  in.recipients.push_back({.address = "carol@rcpt.test", .status = "4.4.7", .action = "delayed"});
  in.original_content =
      "From: alice@sender.test\r\nTo: bob@rcpt.test, carol@rcpt.test\r\n"
      "Message-ID: <m1@sender.test>\r\nX-Ringmta-Ref: ref-1\r\n\r\nbody\r\n";
  in.boundary_seed = "0123456789ABCDEF/1";
  FeedbackReport r = parse_feedback_report(build_dsn(in));
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  EXPECT_EQ(r.reporting_mta, "mx.sender.test");
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].final_recipient, "bob@rcpt.test");
  EXPECT_EQ(r.recipients[0].status, "5.1.1");
  EXPECT_EQ(r.recipients[0].action, "failed");
  EXPECT_EQ(r.recipients[0].remote_mta, "mx.rcpt.test");
  EXPECT_EQ(r.recipients[0].diagnostic, "550 5.1.1 no such user");
  EXPECT_EQ(r.recipients[1].final_recipient, "carol@rcpt.test");
  EXPECT_EQ(r.recipients[1].action, "delayed");
  EXPECT_EQ(r.returned.to, "bob@rcpt.test");
  EXPECT_EQ(r.returned.message_id, "m1@sender.test");
  EXPECT_EQ(r.returned.ringmta_ref, "ref-1");
}

TEST(FeedbackReportTest, FieldForms) {
  // Field names in any case, values folded, types without a space, no
  // per-message block, a block without Final-Recipient (skipped).
  FeedbackReport r = parse_feedback_report(
      report("final-recipient: RFC822;<x@y.test>\r\nACTION: Failed (bad)\r\nstatus: 5.1.10 (x)\r\n"
             "diagnostic-code: X-Postfix; mail\r\n\tloops back\r\n\r\n"
             "Action: failed\r\nStatus: 5.0.0\r\n\r\n"
             "Final-Recipient: rfc822; z@y.test (Zed)\r\nStatus: 550\r\n"
             "Remote-MTA:\r\n dns\r\n ; mx.y.test\r\n"));
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << r.why_not;
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].final_recipient, "x@y.test");
  EXPECT_EQ(r.recipients[0].action, "failed");
  EXPECT_EQ(r.recipients[0].status, "5.1.10");
  EXPECT_EQ(r.recipients[0].diagnostic, "mail loops back");
  EXPECT_EQ(r.recipients[1].final_recipient, "z@y.test");
  EXPECT_EQ(r.recipients[1].status, "");               // not an RFC 3463 code
  EXPECT_EQ(r.recipients[1].remote_mta, "mx.y.test");  // folded around the type
}

TEST(FeedbackReportTest, ReturnedAddressForms) {
  auto to_of = [](std::string_view to) {
    return parse_feedback_report(report(kOneRecipient, cat({"To: ", to}))).returned.to;
  };
  EXPECT_EQ(to_of("a@b.test"), "a@b.test");
  EXPECT_EQ(to_of("<a@b.test>"), "a@b.test");
  EXPECT_EQ(to_of("\"Name, with <stuff>\" <a@b.test>, c@d.test"), "a@b.test");
  EXPECT_EQ(to_of("a@b.test (Name), c@d.test"), "a@b.test");
  EXPECT_EQ(to_of("Name\r\n <a@b.test>"), "a@b.test");
  EXPECT_EQ(to_of("=?utf-8?q?N=C3=A9?= <a@b.test>"), "a@b.test");
  EXPECT_EQ(to_of("<@relay.test:a@b.test>"), "a@b.test");
  EXPECT_EQ(to_of("undisclosed-recipients:;"), "");
  EXPECT_EQ(to_of("team: x@y.test, z@y.test;"), "x@y.test");
  EXPECT_EQ(to_of("\"a b\"@c.test"), "\"a b\"@c.test");
  EXPECT_EQ(to_of("Name <a@b.test"), "");  // unterminated
  EXPECT_EQ(to_of("(unterminated comment a@b.test"), "");
  EXPECT_EQ(to_of(std::string(2000, 'x') + "@b.test"), "");  // too long: dropped, not cut
  EXPECT_EQ(to_of("\"" + std::string(2000, 'x') + "\" <a@b.test>"), "a@b.test");
}

TEST(FeedbackReportTest, MissingParts) {
  const std::string text_only =
      "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=%s; boundary=X\r\n\r\n"
      "--X\r\nContent-Type: text/plain\r\n\r\nhello\r\n--X--\r\n";
  auto with = [&](std::string_view type) { return replace_all(text_only, "%s", type); };
  EXPECT_EQ(parse_feedback_report(with("delivery-status")).why_not, "no delivery-status part");
  EXPECT_EQ(parse_feedback_report(with("Feedback-Report")).why_not, "no feedback-report part");
  EXPECT_EQ(parse_feedback_report(with("disposition-notification")).why_not, "unsupported report-type");
  EXPECT_EQ(parse_feedback_report(with("\"\"")).why_not, "no report part");
  // No report-type, but the part is there.
  std::string m = report(kOneRecipient);
  m = replace_all(m, " report-type=delivery-status;", "");
  EXPECT_EQ(parse_feedback_report(m).kind, ReportKind::kDeliveryStatus);
  // The delivery-status part with nothing in it.
  FeedbackReport r = parse_feedback_report(report("", "To: a@b.test"));
  EXPECT_EQ(r.kind, ReportKind::kDeliveryStatus);
  EXPECT_TRUE(r.recipients.empty());
  EXPECT_EQ(r.returned.to, "a@b.test");
}

TEST(FeedbackReportTest, NoBoundary) {
  for (std::string_view ct : {"multipart/report; report-type=delivery-status",
                              "multipart/report; report-type=delivery-status; boundary=\"\"",
                              "multipart/report; boundary*0=\"abc\""}) {
    FeedbackReport r = parse_feedback_report(
        cat({"Content-Type: ", ct, "\r\n\r\n--abc\r\nContent-Type: message/delivery-status\r\n\r\n",
             kOneRecipient, "--abc--\r\n"}));
    EXPECT_EQ(r.kind, ReportKind::kNone) << ct;
    EXPECT_EQ(r.why_not, "no boundary") << ct;
  }
  // A boundary that the body never uses.
  FeedbackReport r = parse_feedback_report(replace_all(report(kOneRecipient), "\"BB\"", "CC"));
  EXPECT_EQ(r.why_not, "no delivery-status part");
}

TEST(FeedbackReportTest, Unterminated) {
  const std::string full = crlf(read_eml("postfix.eml"));
  // Cut inside the returned message: no close delimiter.
  const size_t body = full.find("Hello,");
  FeedbackReport r = parse_feedback_report(std::string_view(full).substr(0, body));
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus);
  EXPECT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.returned.ringmta_ref, "tenant7/campaign-march/0123456789ABCDEF");
  // Cut inside the recipient block: what is there is reported.
  const size_t action = full.find("Action: failed");
  r = parse_feedback_report(std::string_view(full).substr(0, action));
  ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus);
  ASSERT_EQ(r.recipients.size(), 1u);
  EXPECT_EQ(r.recipients[0].original_recipient, "nobody@example.com");
  EXPECT_EQ(r.recipients[0].action, "");
  // Every cut: never a crash, always bounded; a kind once the report part is in.
  const size_t report_part = full.find("Reporting-MTA");
  for (size_t n = 0; n <= full.size(); ++n) {
    r = parse_feedback_report(std::string_view(full).substr(0, n));
    expect_bounded(r);
    if (n > report_part) {
      EXPECT_EQ(r.kind, ReportKind::kDeliveryStatus) << n;
    }
  }
}

TEST(FeedbackReportTest, WrongCharsetAndEncodingParameters) {
  for (std::string_view headers :
       {"Content-Type: message/delivery-status; charset=no-such-charset\r\n",
        "Content-Type: message/delivery-status; charset=\"utf-16\r\n",
        "Content-Type: message/delivery-status; charset=\r\n",
        "Content-Type: message/delivery-status; charset*=''%FF%FE\r\n",
        "Content-Type: message/delivery-status (charset=utf-7)\r\nContent-Transfer-Encoding: x-unknown\r\n",
        "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: 8BIT\r\n"}) {
    FeedbackReport r = parse_feedback_report(report(kOneRecipient, "", headers));
    ASSERT_EQ(r.kind, ReportKind::kDeliveryStatus) << headers;
    ASSERT_EQ(r.recipients.size(), 1u) << headers;
    EXPECT_EQ(r.recipients[0].final_recipient, "a@b.test");
  }
  // A base64 body that is not base64: decoded to junk, no recipient.
  FeedbackReport r = parse_feedback_report(
      report("!!!! not base64 at all ####", "",
             "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n"));
  EXPECT_EQ(r.kind, ReportKind::kDeliveryStatus);
  EXPECT_TRUE(r.recipients.empty());
}

std::string junk(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

TEST(FeedbackReportTest, FiveMegabytesOfJunk) {
  const std::string j = junk(5 << 20, 1);
  expect_bounded(parse_feedback_report(j));
  // As a report's body, as its delivery-status part, as its headers part.
  FeedbackReport r = parse_feedback_report(cat({"Content-Type: multipart/report; boundary=q\r\n\r\n", j}));
  EXPECT_EQ(r.kind, ReportKind::kNone);
  r = parse_feedback_report(report(j));
  EXPECT_EQ(r.kind, ReportKind::kDeliveryStatus);
  expect_bounded(r);
  r = parse_feedback_report(report(kOneRecipient, j));
  EXPECT_EQ(r.recipients.size(), 1u);
  expect_bounded(r);
  // Lines of delimiters, of field names, of folding, of comments.
  std::string lines;
  for (std::string_view unit : {"--BB\r\n", "Final-Recipient: rfc822; x@y\r\n", " \r\n", "(((((((("}) {
    lines.clear();
    while (lines.size() < (5u << 20)) {
      lines += unit;
    }
    expect_bounded(parse_feedback_report(report(lines, lines)));
    expect_bounded(
        parse_feedback_report(cat({"Content-Type: multipart/report; ", lines, "\r\n\r\n", lines})));
  }
}

TEST(FeedbackReportTest, TenThousandParts) {
  std::string m = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 10000; ++i) {
    m += cat({"--p\r\nContent-Type: text/plain\r\n\r\npart ", std::to_string(i), "\r\n"});
    if (i == 5000) {
      m += cat({"--p\r\nContent-Type: message/delivery-status\r\n\r\n", kOneRecipient, "\r\n"});
    }
  }
  m += "--p--\r\n";
  FeedbackReport r = parse_feedback_report(m);
  EXPECT_EQ(r.kind, ReportKind::kNone);
  EXPECT_EQ(r.why_not, "too many parts");
  // The same limit is what lets a report with few parts through.
  const std::string three = report(kOneRecipient, "To: a@b.test");
  EXPECT_EQ(parse_feedback_report(three, {.max_parts = 3}).returned.to, "a@b.test");
  EXPECT_EQ(parse_feedback_report(three, {.max_parts = 2}).kind, ReportKind::kDeliveryStatus);
  EXPECT_EQ(parse_feedback_report(three, {.max_parts = 2}).returned.to, "");
  EXPECT_EQ(parse_feedback_report(three, {.max_parts = 1}).why_not, "too many parts");
  // Parts of nested multiparts count too.
  std::string nested = "Content-Type: multipart/mixed; boundary=o\r\n\r\n";
  for (int i = 0; i < 40; ++i) {
    nested += cat({"--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nx\r\n--i--\r\n"});
  }
  EXPECT_EQ(parse_feedback_report(nested).why_not, "too many parts");
}

TEST(FeedbackReportTest, DeepNesting) {
  std::string m = report(kOneRecipient);
  for (int i = 0; i < 10; ++i) {
    const std::string b = "n" + std::to_string(i);
    m = cat(
        {"Content-Type: multipart/mixed; boundary=", b, "\r\n\r\n--", b, "\r\n", m, "\r\n--", b, "--\r\n"});
  }
  EXPECT_EQ(parse_feedback_report(m).why_not, "nested too deeply");
  EXPECT_EQ(parse_feedback_report(m, {.max_depth = 11}).kind, ReportKind::kDeliveryStatus);
  // Whatever the caller allows, recursion stops at 64 levels.
  for (int i = 10; i < 1000; ++i) {
    const std::string b = "n" + std::to_string(i);
    m = cat({"Content-Type: multipart/mixed; boundary=", b, "\r\n\r\n--", b, "\r\n", m});
  }
  EXPECT_EQ(parse_feedback_report(m, {.max_parts = SIZE_MAX, .max_depth = SIZE_MAX}).why_not,
            "nested too deeply");
}

TEST(FeedbackReportTest, RecipientAndFieldLimits) {
  std::string status = "Reporting-MTA: dns; mx.test\r\n";
  for (int i = 0; i < 5000; ++i) {
    status += cat({"\r\nFinal-Recipient: rfc822; u", std::to_string(i), "@b.test\r\nAction: failed\r\n"});
  }
  FeedbackReport r = parse_feedback_report(report(status));
  ASSERT_EQ(r.recipients.size(), 1000u);
  EXPECT_EQ(r.recipients.back().final_recipient, "u999@b.test");
  EXPECT_EQ(parse_feedback_report(report(status), {.max_recipients = 3}).recipients.size(), 3u);

  const std::string long_text(5000, 'd');
  r = parse_feedback_report(
      report(cat({"Reporting-MTA: dns; ", long_text,
                  "\r\n\r\nFinal-Recipient: rfc822; a@b.test\r\n"
                  "Diagnostic-Code: smtp; ",
                  long_text, "\r\n\r\nFinal-Recipient: rfc822; ", long_text, "@b.test\r\n"})));
  EXPECT_EQ(r.reporting_mta.size(), 998u);  // text is cut
  ASSERT_EQ(r.recipients.size(), 1u);       // an over-long address is dropped, and its block
  EXPECT_EQ(r.recipients[0].diagnostic.size(), 998u);
  expect_bounded(r);
  FeedbackLimits small{.max_field = 10};
  r = parse_feedback_report(report(kOneRecipient, "To: a@b.test\r\nX-Ringmta-Ref: 0123456789abcdef"), small);
  EXPECT_EQ(r.returned.ringmta_ref, "0123456789");
  EXPECT_EQ(r.returned.to, "a@b.test");
  expect_bounded(r, small);
}

TEST(FeedbackReportTest, MboxFromLineAndOddLineEnds) {
  std::string m = "From MAILER-DAEMON Mon Mar  2 10:00:05 2026\n" + read_eml("postfix.eml");
  EXPECT_EQ(parse_feedback_report(m).kind, ReportKind::kDeliveryStatus);
  // "From :" is a field (RFC 5322 4.5's obsolete form), not an mbox line.
  m = cat({"From : MAILER-DAEMON@mx.test\r\n", report(kOneRecipient)});
  EXPECT_EQ(parse_feedback_report(m).kind, ReportKind::kDeliveryStatus);
  m = cat({"From : x\r\nContent-Type: text/plain\r\n", report(kOneRecipient)});
  EXPECT_EQ(parse_feedback_report(m).kind, ReportKind::kNone);  // its own Content-Type counts
  // Mixed CRLF and LF in one message.
  m = replace_all(crlf(read_eml("rfc3464_multi.eml")), "Action: delayed\r\n", "Action: delayed\n");
  FeedbackReport r = parse_feedback_report(m);
  ASSERT_EQ(r.recipients.size(), 3u);
  EXPECT_EQ(r.recipients[1].action, "delayed");
}

}  // namespace
}  // namespace ringmta::proto
