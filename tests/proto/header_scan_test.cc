// tests/proto/header_scan_test.cc — Received: counting, Date:/Message-ID:
// detection and the trace headers we add.
#include "proto/header_scan.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

std::string received(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += "Received: from a by b;\r\n\tSun, 22 Nov 2026 10:00:00 +0000\r\n";
  }
  return s;
}

TEST(HeaderScanTest, CountsReceivedFields) {
  EXPECT_EQ(scan_headers(received(100) + "\r\nbody\r\n").received, 100u);
  EXPECT_EQ(scan_headers(received(101) + "\r\nbody\r\n").received, 101u);
  EXPECT_GT(scan_headers(received(101)).received, kMaxHops);
}

TEST(HeaderScanTest, NamesAreCaseInsensitiveAndMayHaveBlanksBeforeTheColon) {
  HeaderScan s = scan_headers("received: x\r\nRECEIVED : y\r\ndate: now\r\nmessage-id: <a@b>\r\n\r\n");
  EXPECT_EQ(s.received, 2u);
  EXPECT_TRUE(s.has_date);
  EXPECT_TRUE(s.has_message_id);
}

TEST(HeaderScanTest, StopsAtTheEmptyLine) {
  HeaderScan s = scan_headers("Subject: x\r\n\r\nReceived: no\r\nDate: no\r\nMessage-ID: no\r\n");
  EXPECT_EQ(s.received, 0u);
  EXPECT_FALSE(s.has_date);
  EXPECT_FALSE(s.has_message_id);
}

TEST(HeaderScanTest, StopsAtANonHeaderLine) {
  HeaderScan s = scan_headers("Subject: x\r\nthis is body text\r\nDate: no\r\n");
  EXPECT_FALSE(s.has_date);
}

TEST(HeaderScanTest, ContinuationLinesAreNotFields) {
  HeaderScan s = scan_headers("Subject: x\r\n Date: folded\r\n\tReceived: folded\r\n\r\n");
  EXPECT_FALSE(s.has_date);
  EXPECT_EQ(s.received, 0u);
}

TEST(HeaderScanTest, SimilarNamesDoNotCount) {
  HeaderScan s = scan_headers("X-Received: a\r\nDated: b\r\nMessage-IDs: c\r\nResent-Date: d\r\n\r\n");
  EXPECT_EQ(s.received, 0u);
  EXPECT_FALSE(s.has_date);
  EXPECT_FALSE(s.has_message_id);
}

TEST(HeaderScanTest, EmptyBodyAndNoFinalCrLf) {
  EXPECT_EQ(scan_headers("").received, 0u);
  EXPECT_TRUE(scan_headers("Date: x").has_date);
}

TraceInfo info(std::string_view rcpt) {
  TraceInfo t;
  t.helo = "client.example";
  t.client_addr = "192.0.2.1";
  t.hostname = "mx.test";
  t.protocol = "ESMTP";
  t.queue_id = "Q0001";
  t.recipient = rcpt;
  t.now = absl::FromUnixSeconds(1795341600);
  return t;
}

TEST(TraceHeadersTest, ReceivedDateAndMessageId) {
  std::string out;
  append_trace_headers(info("a@example.test"), HeaderScan{}, &out);
  EXPECT_EQ(out,
            "Received: from client.example (192.0.2.1 [192.0.2.1])\r\n"
            "\tby mx.test (ringmta) with ESMTP id Q0001\r\n"
            "\tfor <a@example.test>; Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <Q0001@mx.test>\r\n");
}

TEST(TraceHeadersTest, NoForClauseAndNothingAddedWhenPresent) {
  std::string out;
  HeaderScan scan;
  scan.has_date = true;
  scan.has_message_id = true;
  append_trace_headers(info(""), scan, &out);
  EXPECT_EQ(out,
            "Received: from client.example (192.0.2.1 [192.0.2.1])\r\n"
            "\tby mx.test (ringmta) with ESMTP id Q0001;\r\n"
            "\tSun, 22 Nov 2026 10:00:00 +0000\r\n");
}

TEST(TraceHeadersTest, TlsAndAuthenticatedSender) {
  TraceInfo t = info("a@example.test");
  t.protocol = "ESMTPSA";
  t.tls_version = "TLSv1.3";
  t.tls_cipher = "TLS_AES_256_GCM_SHA384";
  t.auth_user = "al(i)ce\\";
  std::string out;
  append_trace_headers(t, HeaderScan{}, &out);
  EXPECT_EQ(out.substr(0, out.find("Date:")),
            "Received: from client.example (192.0.2.1 [192.0.2.1])\r\n"
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            "\t(Authenticated sender: al\\(i\\)ce\\\\)\r\n"
            "\tby mx.test (ringmta) with ESMTPSA id Q0001\r\n"
            "\tfor <a@example.test>; Sun, 22 Nov 2026 10:00:00 +0000\r\n");
}

TEST(TraceHeadersTest, TlsDetailsThatAreNotTokensAreLeftOut) {
  const std::string_view kBad[] = {"", "TLS 1.3", "TLS(1)", "x\r\nBcc: y", "\xC3\xA4"};
  for (std::string_view bad : kBad) {
    TraceInfo t = info("");
    t.tls_version = "TLSv1.3";
    t.tls_cipher = bad;
    std::string out;
    append_trace_headers(t, HeaderScan{}, &out);
    EXPECT_EQ(out.find("using"), std::string::npos) << bad;
  }
  TraceInfo t = info("");
  t.tls_version = "TLSv1.2";
  t.tls_cipher = std::string(65, 'C');
  std::string out;
  append_trace_headers(t, HeaderScan{}, &out);
  EXPECT_EQ(out.find("using"), std::string::npos);
}

TEST(TraceHeadersTest, DateFormat) {
  EXPECT_EQ(format_rfc5322_date(absl::FromUnixSeconds(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

}  // namespace
}  // namespace ringmta::proto

namespace ringmta::proto {
namespace {

TEST(TraceHeadersIpv6, AddressLiteralCarriesTheIpv6Tag) {
  TraceInfo info;
  info.helo = "client.test";
  info.client_addr = "::1";
  info.hostname = "mx.test";
  info.protocol = "ESMTP";
  info.queue_id = "Q1";
  info.now = absl::FromUnixSeconds(0);
  std::string out;
  append_trace_headers(info, HeaderScan{}, &out);
  EXPECT_NE(out.find("(::1 [IPv6:::1])"), std::string::npos) << out;
  info.client_addr = "127.0.0.1";
  out.clear();
  append_trace_headers(info, HeaderScan{}, &out);
  EXPECT_NE(out.find("(127.0.0.1 [127.0.0.1])"), std::string::npos) << out;
}

TEST(HeaderScanTest, FindsOneClickUnsubscribe) {
  HeaderScan s = scan_headers("List-Unsubscribe: <https://x.example/u>\r\nlist-unsubscribe-post:\r\n"
                              "  List-Unsubscribe=One-Click \r\n\r\nbody\r\n");
  EXPECT_TRUE(s.has_list_unsubscribe);
  EXPECT_EQ(s.list_unsubscribe_post, "List-Unsubscribe=One-Click");
  EXPECT_TRUE(s.control.empty());  // found, not stripped
  HeaderScan n = scan_headers("Subject: x\r\n\r\nList-Unsubscribe: <https://x.example/u>\r\n");
  EXPECT_FALSE(n.has_list_unsubscribe);
  EXPECT_EQ(n.list_unsubscribe_post, "");
}

TEST(HeaderScanTest, ControlHeadersAreFoundAndStripped) {
  std::string body =
      "From: a@example.com\r\n"
      "X-Ringmta-Pool: newsletters\r\n"
      "Subject: hi\r\n"
      "x-ringmta-tenant:  acme\r\n"
      "\tcorp \r\n"
      "X-Ringmta-Campaign: spring\r\n"
      "\r\n"
      "X-Ringmta-Pool: not a header, the body\r\n";
  HeaderScan s = scan_headers(body);
  EXPECT_EQ(s.pool, "newsletters");
  EXPECT_EQ(s.tenant, "acme corp") << "unfolded and trimmed";
  EXPECT_EQ(s.campaign, "spring");
  ASSERT_EQ(s.control.size(), 3u);
  strip_ranges(s.control, &body);
  EXPECT_EQ(body,
            "From: a@example.com\r\n"
            "Subject: hi\r\n"
            "\r\n"
            "X-Ringmta-Pool: not a header, the body\r\n");
}

TEST(HeaderScanTest, ControlHeaderAtTheEndAndBadValues) {
  std::string body = "X-Ringmta-Pool: " + std::string(kControlValueMax + 1, 'p') + "\r\nX-Ringmta-Tenant: caf\xc3\xa9";
  HeaderScan s = scan_headers(body);
  EXPECT_EQ(s.pool, "") << "too long: dropped";
  EXPECT_EQ(s.tenant, "") << "not ASCII: dropped";
  strip_ranges(s.control, &body);
  EXPECT_EQ(body, "") << "the fields go all the same";
  std::string none = "Subject: x\r\n\r\n";
  HeaderScan n = scan_headers(none);
  EXPECT_TRUE(n.control.empty());
  strip_ranges(n.control, &none);
  EXPECT_EQ(none, "Subject: x\r\n\r\n");
}

}  // namespace
}  // namespace ringmta::proto
