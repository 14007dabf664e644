// tests/engine/inbound/pickup_message_test.cc — maildrop files into messages
// (engine/inbound/pickup_message.h).
#include "engine/inbound/pickup_message.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace ringmta {
namespace {

PickupOptions options(size_t max_recipients = 1000) {
  static int n = 0;
  PickupOptions o;
  o.hostname = "mta.example.org";
  o.now = absl::FromUnixSeconds(1764848123);
  o.max_recipients = max_recipients;
  o.max_message_size = 1000;
  o.new_queue_id = [] { return absl::StrCat("Q", n++); };
  return o;
}

spool::MaildropMessage file(std::string sender, std::vector<std::string> rcpts, std::string_view content) {
  spool::MaildropMessage m;
  m.envelope.sender = std::move(sender);
  m.envelope.recipients = std::move(rcpts);
  m.envelope.origin = "sendmail uid=33";
  m.content = content;
  return m;
}

TEST(PickupMessage, BuildsOneMessageWithTraceAndCrlf) {
  PickupBuild b = build_pickup_messages(file("app@example.com", {"a@example.net", "a@example.net", "b@example.net"},
                                             "Subject: x\n\nbody\n"),
                                        options());
  ASSERT_EQ(b.error, "");
  ASSERT_EQ(b.messages.size(), 1u);
  const proto::CompletedMessage& m = *b.messages[0];
  EXPECT_EQ(m.envelope.sender, "app@example.com");
  EXPECT_EQ(m.envelope.recipients, (std::vector<std::string>{"a@example.net", "b@example.net"}));
  EXPECT_EQ(m.body, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_NE(m.trace_headers.find("Received: (ringmta pickup, sendmail uid=33)\r\n\tby mta.example.org (ringmta)"),
            std::string::npos)
      << m.trace_headers;
  // Date: and Message-ID: added, as at the end of DATA.
  EXPECT_NE(m.trace_headers.find("Date: "), std::string::npos);
  EXPECT_NE(m.trace_headers.find("Message-ID: <"), std::string::npos);
  EXPECT_EQ(m.arrival, absl::FromUnixSeconds(1764848123));
}

TEST(PickupMessage, KeepsArrivalAndSplitsByMaxRecipients) {
  spool::MaildropMessage f = file("", {"a@x.example", "b@x.example", "c@x.example"}, "Subject: y\r\n\r\nz\r\n");
  f.envelope.arrival_us = 1700000000123456;
  PickupBuild b = build_pickup_messages(f, options(2));
  ASSERT_EQ(b.error, "");
  ASSERT_EQ(b.messages.size(), 2u);
  EXPECT_EQ(b.messages[0]->envelope.recipients.size(), 2u);
  EXPECT_EQ(b.messages[1]->envelope.recipients, std::vector<std::string>{"c@x.example"});
  EXPECT_EQ(b.messages[0]->envelope.sender, "");
  EXPECT_NE(b.messages[0]->queue_id, b.messages[1]->queue_id);
  EXPECT_EQ(b.messages[1]->arrival, absl::FromUnixMicros(1700000000123456));
}

TEST(PickupMessage, RefusesBadAddressesAndOversizedContent) {
  PickupBuild some = build_pickup_messages(file("a@example.com", {"nodomain", "ok@example.net"}, "x\r\n"), options());
  ASSERT_EQ(some.error, "");
  EXPECT_EQ(some.refused, std::vector<std::string>{"nodomain: not a valid address"});
  EXPECT_EQ(some.messages[0]->envelope.recipients, std::vector<std::string>{"ok@example.net"});

  EXPECT_EQ(build_pickup_messages(file("a@example.com", {"nodomain"}, "x\r\n"), options()).error,
            "no valid recipient");
  EXPECT_NE(build_pickup_messages(file("a@@example.com", {"ok@example.net"}, "x\r\n"), options()).error.find(
                "sender <a@@example.com>: not a valid address"),
            std::string::npos);
  const std::string big(2000, 'x');
  EXPECT_NE(build_pickup_messages(file("a@example.com", {"ok@example.net"}, big), options()).error.find(
                "exceeds the limit of 1000"),
            std::string::npos);
  // <postmaster> goes to server.postmaster, and is refused without one.
  PickupOptions o = options();
  EXPECT_EQ(build_pickup_messages(file("a@example.com", {"postmaster"}, "x\r\n"), o).error, "no valid recipient");
  o.postmaster = "ops@example.org";
  PickupBuild pm = build_pickup_messages(file("a@example.com", {"Postmaster"}, "x\r\n"), o);
  ASSERT_EQ(pm.error, "");
  EXPECT_EQ(pm.messages[0]->envelope.recipients, std::vector<std::string>{"ops@example.org"});
}

TEST(PickupMessage, CrlfLines) {
  EXPECT_EQ(crlf_lines("a\nb\r\nc"), "a\r\nb\r\nc\r\n");
  EXPECT_EQ(crlf_lines("\n"), "\r\n");
  EXPECT_EQ(crlf_lines(""), "");
}

}  // namespace
}  // namespace ringmta
