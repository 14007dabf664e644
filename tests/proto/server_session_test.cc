// tests/proto/server_session_test.cc — the session state machine, every
// input fed whole and in pieces (the outputs must be identical).
#include "proto/server_session.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/proto/fragments.h"
#include "tests/proto/session_harness.h"

namespace ringmta::proto {
namespace {

using testing::crlf;
using testing::kFragmentSizes;
using testing::run_session;
using testing::RunOptions;
using testing::SessionRun;
using testing::test_config;

// fresh copies `c` with its own queue id counter, so each run starts at Q0001.
SessionConfig fresh(const SessionConfig& c) {
  SessionConfig f = test_config();
  f.limits = c.limits;
  f.local_domains = c.local_domains;
  f.require_list_unsubscribe = c.require_list_unsubscribe;
  return f;
}

// run runs `input` with every fragment size and checks they agree.
SessionRun run(std::string_view input, RunOptions options = {},
               const SessionConfig& config = test_config()) {
  options.fragment = 0;
  SessionRun whole = run_session(fresh(config), input, options);
  for (size_t size : kFragmentSizes) {
    options.fragment = size;
    SessionRun part = run_session(fresh(config), input, options);
    EXPECT_EQ(part.output, whole.output) << "fragment size " << size;
    EXPECT_EQ(part.closing, whole.closing) << "fragment size " << size;
    EXPECT_EQ(part.messages.size(), whole.messages.size()) << "fragment size " << size;
    for (size_t i = 0; i < part.messages.size() && i < whole.messages.size(); ++i) {
      EXPECT_EQ(part.messages[i].body, whole.messages[i].body);
      EXPECT_EQ(part.messages[i].trace_headers, whole.messages[i].trace_headers);
      EXPECT_EQ(part.messages[i].envelope.recipients, whole.messages[i].envelope.recipients);
    }
  }
  return whole;
}

const char kGreeting[] = "220 mx.test ESMTP ringmta\r\n";
const char kEhloReply[] =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES\r\n";

TEST(ServerSessionTest, PipelinedTransaction) {
  SessionRun r = run(crlf(
      "EHLO client.example\nMAIL FROM:<s@sender.example> SIZE=40\n"
      "RCPT TO:<a@example.test>\nRCPT TO:<B@Example.Test>\nRCPT TO:<a@EXAMPLE.test>\n"
      "DATA\nSubject: hi\n\n..dot\n.\nQUIT\n"));
  EXPECT_EQ(r.output, std::string(kGreeting) + kEhloReply +
                          crlf("250 2.1.0 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n"
                               "354 End data with <CR><LF>.<CR><LF>\n"
                               "250 2.0.0 Ok: queued as Q0001\n221 2.0.0 Bye\n"));
  ASSERT_EQ(r.messages.size(), 1u);
  const CompletedMessage& m = r.messages[0];
  EXPECT_EQ(m.queue_id, "Q0001");
  EXPECT_EQ(m.envelope.sender, "s@sender.example");
  EXPECT_EQ(m.envelope.recipients, (std::vector<std::string>{"a@example.test", "B@example.test"}));
  EXPECT_EQ(m.envelope.declared_size, 40u);
  EXPECT_EQ(m.envelope.helo, "client.example");
  EXPECT_EQ(m.envelope.client_addr, "192.0.2.1");
  EXPECT_EQ(m.body, crlf("Subject: hi\n\n.dot\n"));
  EXPECT_EQ(m.arrival, absl::FromUnixSeconds(1795341600));
  EXPECT_EQ(m.trace_headers,
            crlf("Received: from client.example (192.0.2.1 [192.0.2.1])\n"
                 "\tby mx.test (ringmta) with ESMTP id Q0001;\n"
                 "\tSun, 22 Nov 2026 10:00:00 +0000\n"
                 "Date: Sun, 22 Nov 2026 10:00:00 +0000\n"
                 "Message-ID: <Q0001@mx.test>\n"));
  EXPECT_FALSE(m.has_long_lines);
  EXPECT_TRUE(r.closing);
}

TEST(ServerSessionTest, OneClickUnsubscribeIsRequiredWhenConfigured) {
  SessionConfig c = test_config();
  c.require_list_unsubscribe = true;
  auto send = [&](std::string_view headers) {
    return run(crlf("EHLO c\nMAIL FROM:<s@sender.example>\nRCPT TO:<a@example.test>\nDATA\n" +
                    std::string(headers) + "\nbody\n.\nQUIT\n"),
               {}, c);
  };
  const std::string head = std::string(kGreeting) + kEhloReply +
                           crlf("250 2.1.0 Ok\n250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>\n");
  SessionRun none = send("Subject: x\n");
  EXPECT_EQ(none.output, head + crlf("550 5.7.1 Message refused: no List-Unsubscribe header (this server "
                                     "requires RFC 8058 one-click unsubscribe on bulk mail)\n221 2.0.0 Bye\n"));
  EXPECT_TRUE(none.messages.empty());
  SessionRun no_post = send("List-Unsubscribe: <https://u.example/x>\nList-Unsubscribe-Post: List-Unsubscribe=Later\n");
  EXPECT_EQ(no_post.output, head + crlf("550 5.7.1 Message refused: no List-Unsubscribe-Post: "
                                        "List-Unsubscribe=One-Click header (RFC 8058 one-click unsubscribe)\n"
                                        "221 2.0.0 Bye\n"));
  SessionRun ok = send("List-Unsubscribe: <https://u.example/x>,\n <mailto:u@u.example>\n"
                       "List-Unsubscribe-Post:\n List-Unsubscribe=One-Click\n");
  ASSERT_EQ(ok.messages.size(), 1u);
  // Off by default: the same message without the fields is taken.
  EXPECT_EQ(run(crlf("EHLO c\nMAIL FROM:<s@sender.example>\nRCPT TO:<a@example.test>\nDATA\nSubject: x\n\n"
                     "body\n.\nQUIT\n")).messages.size(), 1u);
}

// Without a postmaster address, <postmaster> is refused, from relay clients
// too: ringmta has no mailbox, and accepting it would mean a DSN to a sender
// anyone can forge (backscatter).
TEST(ServerSessionTest, PostmasterWithoutAnAddressIsRefused) {
  SessionConfig config = test_config();
  config.postmaster.clear();
  for (bool relay : {false, true}) {
    ServerSession s(config, {.addr = "192.0.2.1", .may_relay = relay});
    s.start();
    s.consume(crlf("HELO c\nMAIL FROM:<a@b.example>\nRCPT TO:<Postmaster>\n"));
    EXPECT_NE(s.output().find("550 5.1.1 <postmaster>: no postmaster mailbox is configured here (server.postmaster)"),
              std::string::npos)
        << s.output();
  }
}

TEST(ServerSessionTest, ConsumeStopsAtTheEndOfAMessageUntilStored) {
  SessionConfig config = test_config();
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.start();
  std::string in = crlf("HELO c\nMAIL FROM:<>\nRCPT TO:<postmaster>\nDATA\nx\n.\nNOOP\n");
  size_t used = s.consume(in);
  EXPECT_EQ(in.substr(used), crlf("NOOP\n"));
  EXPECT_TRUE(s.waiting());
  EXPECT_TRUE(s.message_ready());
  EXPECT_FALSE(s.in_message());
  EXPECT_EQ(s.consume(in.substr(used)), 0u);
  CompletedMessage m = s.take_message();
  EXPECT_FALSE(s.message_ready());
  EXPECT_TRUE(s.waiting());
  EXPECT_EQ(m.envelope.sender, "");
  // <postmaster> is delivered to SessionConfig::postmaster.
  EXPECT_EQ(m.envelope.recipients, std::vector<std::string>{"ops@example.test"});
  // HELO, one recipient: protocol SMTP and a "for" clause.
  EXPECT_NE(m.trace_headers.find("with SMTP id Q0001\r\n\tfor <ops@example.test>; Sun"),
            std::string::npos);
  s.on_store_failed();
  EXPECT_FALSE(s.waiting());
  EXPECT_EQ(s.consume(in.substr(used)), 6u);
  EXPECT_EQ(s.output(), std::string(kGreeting) +
                            crlf("250 mx.test\n250 2.1.0 Ok\n250 2.1.5 Ok\n"
                                 "354 End data with <CR><LF>.<CR><LF>\n"
                                 "451 4.3.0 Error: queue file write error, try again later\n"
                                 "250 2.0.0 Ok\n"));
}

TEST(ServerSessionTest, InMessageBetween354AndTheEnd) {
  SessionConfig config = test_config();
  ServerSession s(config, {.addr = "192.0.2.1", .may_relay = true});
  s.start();
  s.consume(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<x@y>\n"));
  EXPECT_FALSE(s.in_message());
  s.consume(crlf("DATA\nabc"));
  EXPECT_TRUE(s.in_message());
  s.on_timeout();
  EXPECT_TRUE(s.closing());
  EXPECT_NE(s.output().find("421 4.4.2 mx.test Error: timeout exceeded\r\n"), std::string::npos);
  EXPECT_EQ(s.consume("more"), 0u);
}

TEST(ServerSessionTest, NothingFollowsA421) {
  SessionConfig config = test_config();
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.consume(crlf("HELO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nx\n.\n"));
  ASSERT_TRUE(s.waiting());
  s.on_timeout();
  s.on_stored();
  EXPECT_FALSE(s.waiting());
  EXPECT_EQ(s.output().substr(s.output().size() - 43),
            "421 4.4.2 mx.test Error: timeout exceeded\r\n");
}

TEST(ServerSessionTest, Shutdown) {
  SessionConfig config = test_config();
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.start();
  s.on_shutdown();
  s.on_shutdown();
  EXPECT_TRUE(s.closing());
  EXPECT_EQ(s.output(), std::string(kGreeting) + "421 4.3.2 mx.test Service shutting down\r\n");
}

TEST(ServerSessionTest, SequenceErrors) {
  SessionRun r = run(crlf(
      "MAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nEHLO c\nRCPT TO:<a@example.test>\n"
      "DATA\nMAIL FROM:<a@b>\nMAIL FROM:<a@b>\nDATA\nBDAT 3\nabcRSET\n"));
  EXPECT_EQ(r.output, std::string(kGreeting) +
                          crlf("503 5.5.1 Error: send HELO/EHLO first\n"
                               "503 5.5.1 Error: send HELO/EHLO first\n"
                               "503 5.5.1 Error: send HELO/EHLO first\n") +
                          kEhloReply +
                          crlf("503 5.5.1 Error: need MAIL command\n"
                               "503 5.5.1 Error: need MAIL command\n"
                               "250 2.1.0 Ok\n"
                               "503 5.5.1 Error: nested MAIL command\n"
                               "503 5.5.1 Error: need RCPT command\n"
                               "503 5.5.1 Error: need RCPT command\n"
                               "250 2.0.0 Ok\n"));
}

TEST(ServerSessionTest, BdatAndDataDoNotMix) {
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nBDAT 2\nxyDATA\n"
                          "RCPT TO:<b@example.test>\nBDAT 0 LAST\n"));
  EXPECT_NE(r.output.find(crlf("250 2.0.0 Ok: 2 octets received\n"
                               "503 5.5.1 Error: DATA after BDAT\n"
                               "503 5.5.1 Error: RCPT after BDAT\n"
                               "250 2.0.0 Ok: queued as Q0001\n")),
            std::string::npos)
      << r.output;
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "xy");
}

TEST(ServerSessionTest, BdatChunksSplitAnywhere) {
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\n") +
                     "BDAT 7\r\nA: b\r\n\rBDAT 10 LAST\r\n\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_NE(r.output.find(crlf("250 2.0.0 Ok: 7 octets received\n"
                               "250 2.0.0 Ok: queued as Q0001\n221 2.0.0 Bye\n")),
            std::string::npos)
      << r.output;
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "A: b\r\n\r\nbody\r\n.\r\n");
}

TEST(ServerSessionTest, BdatBadSizeCloses) {
  SessionRun r = run(crlf("EHLO c\nBDAT x\nNOOP\n"));
  EXPECT_TRUE(r.closing);
  EXPECT_EQ(r.output, std::string(kGreeting) + kEhloReply +
                          crlf("501 5.5.4 Syntax: BDAT chunk-size [LAST]\n"
                               "421 4.5.0 mx.test Error: BDAT framing lost, closing connection\n"));
}

TEST(ServerSessionTest, LongCommandLineIsDiscardedToItsEnd) {
  std::string line510(505, 'x');  // "NOOP " + 505 = 510 octets + CRLF = 512
  SessionRun r = run("HELO c\r\nNOOP " + line510 + "\r\nNOOP " + line510 + "y\r\nNOOP\r\n" +
                     "NOOP " + std::string(5000, 'z') + "\nQUIT\r\n");
  EXPECT_EQ(r.output, std::string(kGreeting) +
                          crlf("250 mx.test\n250 2.0.0 Ok\n500 5.5.6 Line too long\n"
                               "250 2.0.0 Ok\n500 5.5.6 Line too long\n221 2.0.0 Bye\n"));
}

TEST(ServerSessionTest, BareLfEndsCommands) {
  SessionRun r = run("HELO c\nNOOP\nQUIT\n");
  EXPECT_EQ(r.output, std::string(kGreeting) + crlf("250 mx.test\n250 2.0.0 Ok\n221 2.0.0 Bye\n"));
}

TEST(ServerSessionTest, TooManyErrorsCloses) {
  SessionConfig config = test_config();
  config.limits.max_errors = 3;
  SessionRun r = run("a\r\nb\r\nc\r\nd\r\n", {}, config);
  EXPECT_TRUE(r.closing);
  EXPECT_EQ(r.output, std::string(kGreeting) +
                          crlf("500 5.5.2 Error: command not recognized\n"
                               "500 5.5.2 Error: command not recognized\n"
                               "500 5.5.2 Error: command not recognized\n"
                               "421 4.7.0 mx.test Error: too many errors\n"));
}

TEST(ServerSessionTest, RelayPolicy) {
  std::string in = crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<x@elsewhere.example>\nRCPT TO:<p@[192.0.2.9]>\n");
  SessionRun denied = run(in);
  EXPECT_NE(denied.output.find(crlf("554 5.7.1 <x@elsewhere.example>: Relay access denied\n"
                                    "554 5.7.1 <p@[192.0.2.9]>: Relay access denied\n")),
            std::string::npos);
  RunOptions relay;
  relay.client.may_relay = true;
  SessionRun allowed = run(in, relay);
  EXPECT_NE(allowed.output.find(crlf("250 2.1.0 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n")),
            std::string::npos);
}

TEST(ServerSessionTest, RecipientLimit) {
  SessionConfig config = test_config();
  config.limits.max_recipients = 2;
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<1@example.test>\nRCPT TO:<2@example.test>\n"
                          "RCPT TO:<1@example.test>\nRCPT TO:<3@example.test>\n"),
                     {}, config);
  EXPECT_NE(r.output.find(crlf("250 2.1.5 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n452 4.5.3 Too many recipients\n")),
            std::string::npos);
}

TEST(ServerSessionTest, MailParameters) {
  SessionRun r = run(crlf(
      "EHLO c\nMAIL FROM:<a@b> SIZE=52428801\nMAIL FROM:<a@b> BODY=BINARYMIME\n"
      "MAIL FROM:<a@b> XFOO\nMAIL FROM:<\xC3\xA4@b>\nMAIL FROM:<a@@b>\nMAIL FROM:a@b\n"
      "MAIL FROM:<\xC3\xA4@b> SMTPUTF8 BODY=8BITMIME\nRCPT TO:<\xC3\xB6@example.test>\n"
      "RCPT TO:<a@b> NOTIFY=NEVER\nRCPT TO:<>\nRCPT TO:<x@y\x01>\n"));
  EXPECT_EQ(r.output, std::string(kGreeting) + kEhloReply +
                          crlf("552 5.3.4 Message size exceeds fixed maximum message size\n"
                               "501 5.5.4 Bad parameter: BODY=BINARYMIME\n"
                               "555 5.5.4 Unsupported option: XFOO\n"
                               "553 5.6.7 Non-ASCII address requires SMTPUTF8\n"
                               "501 5.1.7 Bad sender address syntax\n"
                               "501 5.5.4 Syntax: MAIL FROM:<address>\n"
                               "250 2.1.0 Ok\n250 2.1.5 Ok\n"
                               "555 5.5.4 Unsupported option: NOTIFY=NEVER\n"
                               "501 5.1.3 Bad recipient address syntax\n"
                               "501 5.1.3 Bad recipient address syntax\n"));
}

TEST(ServerSessionTest, MessageTooBig) {
  SessionConfig config = test_config();
  config.limits.max_message_size = 10;
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\n"
                          "0123456789ABC\n.\nMAIL FROM:<a@b>\n"),
                     {}, config);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_NE(r.output.find(crlf("354 End data with <CR><LF>.<CR><LF>\n"
                               "552 5.3.4 Message size exceeds fixed maximum message size\n"
                               "250 2.1.0 Ok\n")),
            std::string::npos);
}

TEST(ServerSessionTest, BdatTooBigAnswersEveryChunkThenResetsAtLast) {
  SessionConfig config = test_config();
  config.limits.max_message_size = 10;
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\n") +
                         "BDAT 8\r\n12345678BDAT 5\r\n12345BDAT 2\r\nxxBDAT 1 LAST\r\nyNOOP\r\n",
                     {}, config);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_NE(r.output.find(crlf("250 2.0.0 Ok: 8 octets received\n"
                               "552 5.3.4 Message size exceeds fixed maximum message size\n"
                               "552 5.3.4 Message size exceeds fixed maximum message size\n"
                               "552 5.3.4 Message size exceeds fixed maximum message size\n"
                               "250 2.0.0 Ok\n")),
            std::string::npos)
      << r.output;
}

TEST(ServerSessionTest, TooManyHops) {
  std::string hops;
  for (int i = 0; i < 101; ++i) {
    hops += "Received: from x by y; Sun, 22 Nov 2026 10:00:00 +0000\n";
  }
  std::string head = "EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\n";
  SessionRun refused = run(crlf(head + hops + "\nbody\n.\n"));
  EXPECT_TRUE(refused.messages.empty());
  EXPECT_NE(refused.output.find("554 5.4.6 Too many hops\r\n"), std::string::npos);
  SessionRun ok = run(crlf(head + hops.substr(hops.find('\n') + 1) + "\nbody\n.\n"));
  EXPECT_EQ(ok.messages.size(), 1u);
}

TEST(ServerSessionTest, ExistingDateAndMessageIdAreKept) {
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\n"
                          "date: Mon, 1 Jan 2024 00:00:00 +0000\nMESSAGE-ID: <x@y>\n\nhi\n.\n"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].trace_headers.find("Date:"), std::string::npos);
  EXPECT_EQ(r.messages[0].trace_headers.find("Message-ID:"), std::string::npos);
}

TEST(ServerSessionTest, LongTextLinesAreAcceptedAndFlagged) {
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\n" +
                          std::string(2000, 'x') + "\n.\n"));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.messages[0].has_long_lines);
}

TEST(ServerSessionTest, MiscCommands) {
  SessionRun r = run(crlf("EHLO c\nVRFY x\nVRFY\nEXPN x\nHELP\nSTARTTLS\nAUTH PLAIN\nNOOP x\n"
                          "RSET x\nEHLO\nHELO bad\x01\n"));
  EXPECT_EQ(r.output, std::string(kGreeting) + kEhloReply +
                          crlf("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\n"
                               "501 5.5.4 Syntax: VRFY address\n"
                               "502 5.5.1 Error: command not implemented\n"
                               "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP\n"
                               "502 5.5.1 Error: command not implemented\n"
                               "502 5.5.1 Error: command not implemented\n"
                               "250 2.0.0 Ok\n"
                               "501 5.5.4 Syntax: RSET\n"
                               "501 5.5.4 Syntax: EHLO hostname\n"
                               "501 5.5.4 Syntax: HELO hostname\n"));
}

TEST(ServerSessionTest, EhloResetsTheTransaction) {
  SessionRun r = run(crlf("EHLO c\nMAIL FROM:<a@b>\nEHLO d\nRCPT TO:<a@example.test>\n"));
  EXPECT_NE(r.output.find("503 5.5.1 Error: need MAIL command\r\n"), std::string::npos);
}

TEST(ServerSessionTest, TwoMessagesOnOneConnection) {
  std::string tx = "MAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nhello\n.\n";
  SessionRun r = run(crlf("EHLO c\n" + tx + tx + "QUIT\n"));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].queue_id, "Q0001");
  EXPECT_EQ(r.messages[1].queue_id, "Q0002");
  EXPECT_NE(r.output.find("queued as Q0002\r\n221 2.0.0 Bye\r\n"), std::string::npos);
}

}  // namespace
}  // namespace ringmta::proto
