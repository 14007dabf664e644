// tests/proto/dsn_test.cc — delivery status notifications: the MIME
// structure, the required RFC 3464 fields, the returned headers, limits.
#include "proto/dsn.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

DsnInput input() {
  DsnInput in;
  in.reporting_mta = "mx.sender.test";
  in.original_queue_id = "Q0001";
  in.original_sender = "alice@sender.test";
  in.arrival = absl::FromUnixSeconds(1795341600);  // 2026-11-22 10:00 UTC
  in.now = in.arrival + absl::Minutes(5);
  in.recipients.push_back({.address = "bob@rcpt.test", .status = "5.1.1", .action = "failed",
                           .remote_mta = "dns; mx.rcpt.test",
                           .diagnostic = "smtp; 550 5.1.1 no such user"});
  in.recipients.push_back({.address = "carol@rcpt.test", .status = "5.4.4", .action = "failed",
                           .remote_mta = "", .diagnostic = ""});
  in.original_content =
      "Received: from client\r\n\tby mx.sender.test\r\nSubject: hello\r\n"
      "From: alice@sender.test\r\n\r\nSECRET BODY\r\n";
  in.boundary_seed = "Q0001/1";
  return in;
}

struct Part {
  std::string headers;
  std::string body;
};

// split_mime cuts `dsn` at its boundary: the top headers, then each part.
std::vector<Part> split_mime(const std::string& dsn, std::string* top, std::string* boundary) {
  size_t header_end = dsn.find("\r\n\r\n");
  *top = dsn.substr(0, header_end + 2);
  size_t b = top->find("boundary=\"");
  *boundary = top->substr(b + 10, top->find('"', b + 10) - b - 10);
  const std::string delimiter = "\r\n--" + *boundary;
  std::vector<Part> parts;
  size_t pos = dsn.find(delimiter, header_end);
  while (pos != std::string::npos && dsn.compare(pos + delimiter.size(), 2, "--") != 0) {
    size_t start = pos + delimiter.size() + 2;
    size_t next = dsn.find(delimiter, start);
    std::string part = dsn.substr(start, next - start);
    size_t split = part.find("\r\n\r\n");
    parts.push_back({part.substr(0, split + 2), part.substr(split + 4)});
    pos = next;
  }
  EXPECT_EQ(dsn.substr(pos), delimiter + "--\r\n");
  return parts;
}

TEST(DsnTest, NeverToTheNullSender) {
  EXPECT_FALSE(dsn_allowed(""));
  EXPECT_TRUE(dsn_allowed("alice@sender.test"));
}

TEST(DsnTest, MultipartReportStructure) {
  const std::string dsn = build_dsn(input());
  std::string top, boundary;
  std::vector<Part> parts = split_mime(dsn, &top, &boundary);
  EXPECT_NE(top.find("From: MAILER-DAEMON@mx.sender.test (Mail Delivery System)\r\n"), std::string::npos);
  EXPECT_NE(top.find("To: <alice@sender.test>\r\n"), std::string::npos);
  EXPECT_NE(top.find("Subject: Undelivered Mail Returned to Sender\r\n"), std::string::npos);
  EXPECT_NE(top.find("Date: Sun, 22 Nov 2026 10:05:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(top.find("Message-ID: <Q0001."), std::string::npos);
  EXPECT_NE(top.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(top.find("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\""),
            std::string::npos);
  EXPECT_NE(top.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_EQ(top.find("Content-Transfer-Encoding"), std::string::npos);
  EXPECT_LE(boundary.size(), 70u);
  EXPECT_EQ(boundary.find_first_of(" \"\r\n"), std::string::npos);

  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].headers.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(parts[0].body.find("<bob@rcpt.test>: host mx.rcpt.test said: 550 5.1.1 no such user"),
            std::string::npos);
  EXPECT_NE(parts[0].body.find("<carol@rcpt.test>: delivery failed (status 5.4.4)"),
            std::string::npos);

  EXPECT_NE(parts[1].headers.find("Content-Type: message/delivery-status"), std::string::npos);
  const std::string& status = parts[1].body;
  EXPECT_EQ(status.find("Reporting-MTA: dns; mx.sender.test\r\nX-Ringmta-Queue-ID: Q0001\r\n"
                        "X-Ringmta-Sender: rfc822; alice@sender.test\r\n"
                        "Arrival-Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n"
                        "Final-Recipient: rfc822; bob@rcpt.test\r\nAction: failed\r\n"
                        "Status: 5.1.1\r\nRemote-MTA: dns; mx.rcpt.test\r\n"
                        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
                        "Last-Attempt-Date: Sun, 22 Nov 2026 10:05:00 +0000\r\n\r\n"
                        "Final-Recipient: rfc822; carol@rcpt.test\r\nAction: failed\r\n"
                        "Status: 5.4.4\r\nLast-Attempt-Date: Sun, 22 Nov 2026 10:05:00 +0000\r\n"),
            0u)
      << status;

  EXPECT_NE(parts[2].headers.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(parts[2].body,
            "Received: from client\r\n\tby mx.sender.test\r\nSubject: hello\r\n"
            "From: alice@sender.test\r\n");
  EXPECT_EQ(dsn.find("SECRET BODY"), std::string::npos);
  EXPECT_EQ(build_dsn(input()), dsn);  // reproducible
}

TEST(DsnTest, BounceClassInBothParts) {
  DsnInput in = input();
  in.recipients[0].bounce_class = "InvalidRecipient";
  in.recipients[1].bounce_class = "Bad\r\nX-Injected: yes";  // cleaned like every other value
  const std::string dsn = build_dsn(in);
  std::string top, boundary;
  std::vector<Part> parts = split_mime(dsn, &top, &boundary);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].body.find("said: 550 5.1.1 no such user\r\n    (bounce class: InvalidRecipient)\r\n"),
            std::string::npos)
      << parts[0].body;
  EXPECT_NE(parts[1].body.find("Last-Attempt-Date: Sun, 22 Nov 2026 10:05:00 +0000\r\n"
                               "X-Ringmta-Bounce-Class: InvalidRecipient\r\n\r\n"
                               "Final-Recipient: rfc822; carol@rcpt.test\r\n"),
            std::string::npos)
      << parts[1].body;
  EXPECT_NE(parts[1].body.find("X-Ringmta-Bounce-Class: Bad  X-Injected: yes\r\n"), std::string::npos);
  EXPECT_EQ(dsn.find("\r\nX-Injected"), std::string::npos);
  // Without a class (the default) neither part mentions one.
  EXPECT_EQ(build_dsn(input()).find("ounce class"), std::string::npos);
  EXPECT_EQ(build_dsn(input()).find("Bounce-Class"), std::string::npos);
}

TEST(DsnTest, EveryLineIsCrlfAndShort) {
  DsnInput in = input();
  in.recipients[0].diagnostic = "smtp; 550 5.1.1 " + std::string(3000, 'z') + " and\r\nX-Injected: yes";
  std::string headers = "Subject: " + std::string(1500, 'h') + "\r\n\r\nbody\r\n";
  in.original_content = headers;
  const std::string dsn = build_dsn(in);
  for (size_t pos = 0; pos < dsn.size();) {
    size_t end = dsn.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    ASSERT_GT(end, pos);
    EXPECT_EQ(dsn[end - 1], '\r');
    EXPECT_LE(end - 1 - pos, 998u);
    EXPECT_EQ(dsn.substr(pos, end - pos).find('\r'), end - pos - 1);
    pos = end + 1;
  }
  EXPECT_EQ(dsn.find("\r\nX-Injected"), std::string::npos);
}

TEST(DsnTest, DelayedOnlyIsAWarning) {
  DsnInput in = input();
  in.recipients.resize(1);
  in.recipients[0].action = "delayed";
  in.recipients[0].status = "4.4.1";
  const std::string dsn = build_dsn(in);
  EXPECT_NE(dsn.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("Action: delayed\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("THIS IS A WARNING ONLY"), std::string::npos);
}

TEST(DsnTest, BoundaryNeverInTheReturnedHeaders) {
  const std::string first = build_dsn(input());
  size_t b = first.find("boundary=\"") + 10;
  std::string boundary = first.substr(b, first.find('"', b) - b);
  DsnInput in = input();
  std::string hostile = "X-Trap: --" + boundary + "\r\nSubject: x\r\n\r\n";
  in.original_content = hostile;
  const std::string dsn = build_dsn(in);
  size_t b2 = dsn.find("boundary=\"") + 10;
  std::string boundary2 = dsn.substr(b2, dsn.find('"', b2) - b2);
  EXPECT_NE(boundary2, boundary);
  EXPECT_EQ(hostile.find(boundary2), std::string::npos);
}

TEST(DsnTest, Utf8AddressesAndEightBit) {
  DsnInput in = input();
  in.recipients.resize(1);
  in.recipients[0].address = "j\xc3\xb6rg@rcpt.test";
  const std::string dsn = build_dsn(in);
  EXPECT_NE(dsn.find("Final-Recipient: utf-8; j\xc3\xb6rg@rcpt.test\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Transfer-Encoding: 8bit\r\n"), std::string::npos);
  EXPECT_TRUE(dsn_has_8bit(dsn));
  EXPECT_FALSE(dsn_has_8bit(build_dsn(input())));
}

TEST(DsnTest, HeaderSection) {
  EXPECT_EQ(original_header_section("A: 1\r\n b\r\nB: 2\r\n\r\nbody", 1000), "A: 1\r\n b\r\nB: 2\r\n");
  EXPECT_EQ(original_header_section("A: 1\r\nnot a header\r\nB: 2\r\n", 1000), "A: 1\r\n");
  EXPECT_EQ(original_header_section("A: 1\r\nB: 2\r\n", 8), "A: 1\r\n");
  EXPECT_EQ(original_header_section("no headers\r\n", 1000), "");
}

}  // namespace
}  // namespace ringmta::proto
