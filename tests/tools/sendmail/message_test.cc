// tests/tools/sendmail/message_test.cc — stdin to content (message_reader.h),
// header fixing and -t (headers.h, address_list.h).
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "proto/client_content.h"
#include "tools/sendmail/address_list.h"
#include "tools/sendmail/headers.h"
#include "tools/sendmail/message_reader.h"

namespace ringmta::sendmail {
namespace {

std::string normalized(std::string_view in, bool ignore_dots = false) {
  std::string out;
  EXPECT_TRUE(normalize_message(in, {.ignore_dots = ignore_dots}, &out).ok());
  return out;
}

TEST(MessageReader, BareLfBecomesCrlfAndCrlfStays) {
  EXPECT_EQ(normalized("a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalized("a\r\nb\r\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalized("a\nno end"), "a\r\nno end\r\n");
  EXPECT_EQ(normalized(""), "");
}

TEST(MessageReader, ALoneDotEndsInputUnlessIgnoreDots) {
  EXPECT_EQ(normalized("a\n.\nafter\n"), "a\r\n");
  EXPECT_EQ(normalized("a\r\n.\r\nafter\r\n"), "a\r\n");
  EXPECT_EQ(normalized("a\n.\nafter\n", true), "a\r\n.\r\nafter\r\n");
  EXPECT_EQ(normalized("a\n..\n.b\n"), "a\r\n..\r\n.b\r\n");  // only a lone dot, and no unstuffing
}

TEST(MessageReader, WorksOverAnyFragmentation) {
  const std::string in = "Subject: x\n\nline\r\n.x\n.\nrest\n";
  for (size_t step : {1, 2, 3, 7}) {
    MessageReader r({});
    for (size_t i = 0; i < in.size() && !r.done(); i += step) ASSERT_TRUE(r.feed(std::string_view(in).substr(i, step)).ok());
    r.finish();
    EXPECT_EQ(r.take(), "Subject: x\r\n\r\nline\r\n.x\r\n") << step;
  }
}

TEST(MessageReader, RefusesPastTheBound) {
  std::string out;
  EXPECT_FALSE(normalize_message(std::string(2000, 'a'), {.max_size = 1000}, &out).ok());
  EXPECT_TRUE(normalize_message(std::string(998, 'a'), {.max_size = 1000}, &out).ok());
}

TEST(DotStuffing, TheWireFormStuffsLeadingDots) {
  std::string wire;
  proto::append_wire_content(&wire, "", normalized("a\n.b\n..\n", true), proto::kMaxWireLine, true);
  EXPECT_EQ(wire, "a\r\n..b\r\n...\r\n");
}

TEST(AddressList, MailboxesGroupsQuotesAndComments) {
  EXPECT_EQ(parse_address_list("a@x.test"), (std::vector<std::string>{"a@x.test"}));
  EXPECT_EQ(parse_address_list("\"Doe, J\" <j@x.test>, b@y.test (Bob, the <builder>)"),
            (std::vector<std::string>{"j@x.test", "b@y.test"}));
  EXPECT_EQ(parse_address_list("team: a@x.test, B <b@x.test>; c@y.test"),
            (std::vector<std::string>{"a@x.test", "b@x.test", "c@y.test"}));
  EXPECT_EQ(parse_address_list("undisclosed-recipients:;"), (std::vector<std::string>{}));
  EXPECT_EQ(parse_address_list("<@relay.test:u@x.test>"), (std::vector<std::string>{"u@x.test"}));
  EXPECT_EQ(parse_address_list("\"a:b\"@x.test"), (std::vector<std::string>{"\"a:b\"@x.test"}));
  EXPECT_EQ(parse_address_list(" , ,root"), (std::vector<std::string>{"root"}));
}

HeaderFix fix(bool t = false) {
  return {.from_address = "alice@host.test", .full_name = "", .now = absl::FromUnixSeconds(1764849600),
          .hostname = "host.test", .extract_recipients = t};
}

TEST(Headers, AddsFromDateAndMessageIdWhenMissing) {
  absl::StatusOr<FixedMessage> m = fix_headers("Subject: hi\r\n\r\nbody\r\n", fix());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->added_from && m->added_date && m->added_message_id);
  EXPECT_NE(m->content.find("Subject: hi\r\nFrom: alice@host.test\r\nDate: Thu, 04 Dec 2025 12:00:00 +0000\r\n"
                            "Message-ID: <"),
            std::string::npos)
      << m->content;
  EXPECT_NE(m->content.find("@host.test>\r\n\r\nbody\r\n"), std::string::npos);
}

TEST(Headers, KeepsWhatIsThere) {
  const std::string in = "from: x@y.test\r\nDATE: Mon, 1 Dec 2025 00:00:00 +0000\r\nMessage-Id: <a@b>\r\n\r\nb\r\n";
  absl::StatusOr<FixedMessage> m = fix_headers(in, fix());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content, in);
}

TEST(Headers, FromWithAFullName) {
  EXPECT_EQ(from_field("a@x.test", "Jane Doe"), "From: Jane Doe <a@x.test>\r\n");
  EXPECT_EQ(from_field("a@x.test", "J. Doe"), "From: \"J. Doe\" <a@x.test>\r\n");
  EXPECT_EQ(from_field("a@x.test", "Say \"hi\""), "From: \"Say \\\"hi\\\"\" <a@x.test>\r\n");
  EXPECT_EQ(from_field("a@x.test", ""), "From: a@x.test\r\n");
  EXPECT_EQ(from_field("a@x.test", "Jos\xc3\xa9").rfind("From: =?", 0), 0u);
}

TEST(Headers, AnMboxFromLineIsDropped) {
  absl::StatusOr<FixedMessage> m = fix_headers("From alice Thu Dec  4 12:00:00 2025\r\nSubject: s\r\n\r\nb\r\n", fix());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content.rfind("Subject: s\r\nFrom: alice@host.test\r\n", 0), 0u) << m->content;
}

TEST(Headers, NoHeaderSectionMeansAllIsBody) {
  absl::StatusOr<FixedMessage> m = fix_headers("just text\r\nmore\r\n", fix());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content.rfind("From: alice@host.test\r\n", 0), 0u);
  EXPECT_NE(m->content.find(">\r\n\r\njust text\r\nmore\r\n"), std::string::npos);
}

TEST(Headers, TakesRecipientsFromToCcBccAndRemovesBcc) {
  const std::string in =
      "To: A <a@x.test>,\r\n b@x.test\r\nCc: c@x.test\r\nBcc: secret@x.test,\r\n\tother@x.test\r\n"
      "Subject: s\r\n\r\nBcc: in the body stays\r\n";
  absl::StatusOr<FixedMessage> m = fix_headers(in, fix(true));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header_recipients,
            (std::vector<std::string>{"a@x.test", "b@x.test", "c@x.test", "secret@x.test", "other@x.test"}));
  EXPECT_TRUE(m->removed_bcc);
  EXPECT_EQ(m->content.find("secret"), std::string::npos);
  EXPECT_EQ(m->content.find("other@"), std::string::npos);
  EXPECT_NE(m->content.find("\r\n\r\nBcc: in the body stays\r\n"), std::string::npos);
  // Without -t the headers give no recipients, and Bcc: still goes.
  m = fix_headers(in, fix(false));
  EXPECT_TRUE(m->header_recipients.empty());
  EXPECT_EQ(m->content.find("secret"), std::string::npos);
}

TEST(Headers, BoundsAreRefusedNotCut) {
  std::string big = "Subject: " + std::string(kMaxHeaderField, 'x') + "\r\n\r\n";
  EXPECT_FALSE(fix_headers(big, fix()).ok());
  std::string folded = "Subject: a\r\n";
  for (int i = 0; i < 20000; ++i) folded += " continued line\r\n";
  EXPECT_FALSE(fix_headers(folded + "\r\n", fix()).ok());
  std::string many;
  for (size_t i = 0; i <= kMaxHeaderFields; ++i) many += "X-A: b\r\n";
  EXPECT_FALSE(fix_headers(many + "\r\n", fix()).ok());
}

}  // namespace
}  // namespace ringmta::sendmail
