// tests/proto/client_session_test.cc — the SMTP client state machine. The
// wire bytes of each case are pinned by the golden transcripts
// (client_transcript_test.cc); these check the engine-facing contract:
// what one write holds, results, phases, capabilities, limits.
#include "proto/client_session.h"

#include <cstring>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/proto/client_harness.h"
#include "tests/proto/fragments.h"

namespace ringmta::proto {
namespace {

using testing::ClientAction;
using testing::ClientRun;

const char kGreeting[] = "220 mx.test ESMTP\r\n";
const char kFullEhlo[] =
    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n250-CHUNKING\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n";

ClientConfig config() {
  ClientConfig c;
  c.helo_name = "client.test";
  return c;
}

ClientAction send(std::vector<std::string> to, std::string body = "Subject: t\r\n\r\nhi\r\n") {
  ClientAction a;
  a.sender = "s@a.test";
  a.recipients = std::move(to);
  a.body = std::move(body);
  return a;
}

// run runs `server` with every fragment size and checks they agree.
ClientRun run(std::string_view server, const std::vector<ClientAction>& actions,
              const ClientConfig& c = config()) {
  ClientRun whole = testing::run_client(c, server, actions);
  for (size_t size : testing::kFragmentSizes) {
    ClientRun part = testing::run_client(c, server, actions, size);
    EXPECT_EQ(part.output, whole.output) << "fragment size " << size;
    EXPECT_EQ(testing::render_results(part, actions), testing::render_results(whole, actions))
        << "fragment size " << size;
  }
  return whole;
}

TEST(ClientSessionTest, PipelinedTransactionIsOneWrite) {
  ClientSession c(config());
  EXPECT_EQ(c.phase(), "greeting");
  EXPECT_EQ(c.consume(std::string(kGreeting) + kFullEhlo), strlen(kGreeting) + strlen(kFullEhlo));
  EXPECT_EQ(c.output(), "EHLO client.test\r\n");
  c.output().clear();
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(c.phase(), "idle");
  const ClientSession::Capabilities& caps = c.caps();
  EXPECT_TRUE(caps.pipelining && caps.chunking && caps.eightbitmime && caps.smtputf8 &&
              caps.starttls && caps.size);
  EXPECT_EQ(caps.max_size, 1000u);

  OutboundMessage m;
  m.sender = "s@a.test";
  m.recipients = {"r1@b.test", "r2@b.test"};
  m.trace_headers = "Received: x\r\n";
  m.body = "Subject: t\r\n\r\nno newline";
  ASSERT_TRUE(c.send_message(m));
  EXPECT_FALSE(c.ready());
  EXPECT_FALSE(c.send_message(m));
  EXPECT_EQ(c.output(),
            "MAIL FROM:<s@a.test> SIZE=39\r\nRCPT TO:<r1@b.test>\r\nRCPT TO:<r2@b.test>\r\n"
            "BDAT 39 LAST\r\nReceived: x\r\nSubject: t\r\n\r\nno newline\r\n");
  c.output().clear();
  EXPECT_EQ(c.phase(), "mail");
  std::string replies = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 no\r\n250 2.0.0 queued\r\n";
  EXPECT_EQ(c.consume(replies + "garbage"), replies.size());
  ASSERT_TRUE(c.has_result());
  EXPECT_FALSE(c.ready());
  TransactionResult r = c.take_result();
  EXPECT_TRUE(c.ready());
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  EXPECT_EQ(r.recipients[0].reply.text, "queued");
  EXPECT_EQ(r.recipients[1].reply.code, 550);
  EXPECT_EQ(r.recipients[1].reply.enhanced, "5.1.1");
  EXPECT_EQ(r.data_reply.code, 250);
  EXPECT_FALSE(r.connection_lost);
  EXPECT_TRUE(c.output().empty());
  c.quit();
  EXPECT_EQ(c.output(), "QUIT\r\n");
  EXPECT_EQ(c.phase(), "quit");
  c.consume("221 2.0.0 Bye\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_FALSE(c.failed());
}

// LMTP (RFC 2033): LHLO, DATA even when CHUNKING is offered, and after the
// dot one reply per accepted recipient, in RCPT order, each its own result.
TEST(ClientSessionTest, LmtpGivesEachRecipientItsOwnReplyAfterTheData) {
  ClientConfig cfg = config();
  cfg.lmtp = true;
  ClientSession c(cfg);
  c.consume(std::string("220 lmtp.test LMTP\r\n"));
  EXPECT_EQ(c.output(), "LHLO client.test\r\n");
  c.output().clear();
  c.consume(std::string("250-lmtp.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES\r\n"));
  ASSERT_TRUE(c.ready());
  OutboundMessage m;
  m.sender = "s@a.test";
  m.recipients = {"ok@b.test", "unknown@b.test", "full@b.test", "ok2@b.test"};
  m.body = "Subject: t\r\n\r\n.dot\r\n";
  ASSERT_TRUE(c.send_message(m));
  EXPECT_EQ(c.output(),
            "MAIL FROM:<s@a.test>\r\nRCPT TO:<ok@b.test>\r\nRCPT TO:<unknown@b.test>\r\n"
            "RCPT TO:<full@b.test>\r\nRCPT TO:<ok2@b.test>\r\nDATA\r\n");
  c.output().clear();
  c.consume(std::string("250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 no such user\r\n250 2.1.5 OK\r\n"
                        "250 2.1.5 OK\r\n354 go\r\n"));
  EXPECT_EQ(c.output(), "Subject: t\r\n\r\n..dot\r\n.\r\n");
  EXPECT_EQ(c.phase(), "dot");
  EXPECT_FALSE(c.has_result());
  // Three accepted recipients: three replies; two alone are not a result.
  c.consume(std::string("250 2.0.0 <ok@b.test> saved\r\n452 4.2.2 <full@b.test> quota exceeded\r\n"));
  EXPECT_FALSE(c.has_result());
  c.consume(std::string("250 2.0.0 <ok2@b.test> saved\r\n"));
  ASSERT_TRUE(c.has_result());
  TransactionResult r = c.take_result();
  ASSERT_EQ(r.recipients.size(), 4u);
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  EXPECT_EQ(r.recipients[1].reply.code, 550);
  EXPECT_TRUE(r.recipients[1].rcpt_refused);
  EXPECT_EQ(r.recipients[2].reply.code, 452);
  EXPECT_EQ(r.recipients[2].reply.enhanced, "4.2.2");
  EXPECT_FALSE(r.recipients[2].rcpt_refused);
  EXPECT_EQ(r.recipients[3].reply.code, 250);
  EXPECT_EQ(r.recipients[3].reply.text, "<ok2@b.test> saved");
  EXPECT_EQ(r.data_reply.code, 452);  // the first refusal
  EXPECT_TRUE(c.ready());
}

TEST(ClientSessionTest, LmtpHasNoHeloFallbackAndLossDefersTheRest) {
  ClientConfig cfg = config();
  cfg.lmtp = true;
  {
    ClientSession c(cfg);
    c.consume(std::string("220 x\r\n500 5.5.1 what\r\n"));
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.failed());
    EXPECT_EQ(c.output(), "LHLO client.test\r\nQUIT\r\n");
  }
  ClientSession c(cfg);
  c.consume(std::string("220 x\r\n250 x\r\n"));
  OutboundMessage m;
  m.sender = "s@a.test";
  m.recipients = {"a@b.test", "c@b.test"};
  m.body = "x\r\n";
  ASSERT_TRUE(c.send_message(m));  // lock-step: no PIPELINING offered
  c.consume(std::string("250 ok\r\n"));
  c.consume(std::string("250 ok\r\n"));
  c.consume(std::string("250 ok\r\n"));
  c.consume(std::string("354 go\r\n"));
  c.consume(std::string("250 2.0.0 a saved\r\n"));
  EXPECT_FALSE(c.has_result());
  c.on_connection_lost();
  ASSERT_TRUE(c.has_result());
  TransactionResult r = c.take_result();
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  EXPECT_EQ(r.recipients[1].reply.code, 451);
  EXPECT_TRUE(r.connection_lost);
}

TEST(ClientSessionTest, LockStepWritesOneCommandPerReply) {
  ClientSession c(config());
  c.consume(std::string(kGreeting) + "250-mx.test\r\n250 SIZE\r\n");
  OutboundMessage m;
  m.sender = "s@a.test";
  m.recipients = {"r1@b.test", "r2@b.test"};
  m.body = "Subject: t\r\n\r\nhi\r\n";
  c.output().clear();
  ASSERT_TRUE(c.send_message(m));
  const std::pair<const char*, const char*> steps[] = {
      {"", "MAIL FROM:<s@a.test> SIZE=18\r\n"},
      {"250 Ok\r\n", "RCPT TO:<r1@b.test>\r\n"},
      {"250 Ok\r\n", "RCPT TO:<r2@b.test>\r\n"},
      {"250 Ok\r\n", "DATA\r\n"},
      {"354 go\r\n", "Subject: t\r\n\r\nhi\r\n.\r\n"},
  };
  const char* phases[] = {"mail", "rcpt", "rcpt", "data", "dot"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(c.consume(steps[i].first), strlen(steps[i].first));
    EXPECT_EQ(c.output(), steps[i].second) << i;
    EXPECT_EQ(c.phase(), phases[i]);
    c.output().clear();
  }
  EXPECT_FALSE(c.has_result());
  c.consume("250 Ok\r\n");
  ASSERT_TRUE(c.has_result());
  EXPECT_EQ(c.take_result().recipients[1].reply.code, 250);
  EXPECT_TRUE(c.ready());
}

TEST(ClientSessionTest, DefaultFoldingKeepsWireLinesWithin1000) {
  std::string body = "Subject: long\r\n\r\n" + std::string(2500, 'a') + "\r\n." +
                     std::string(997, 'b') + "\r\n" + std::string(997, 'c') + "\xc3\xa9\r\n";
  ClientConfig c = config();
  c.use_chunking = false;
  ClientRun r = run(std::string(kGreeting) + "250-mx.test\r\n250 PIPELINING\r\n" +
                        "250 Ok\r\n250 Ok\r\n354 go\r\n",
                    {send({"r@b.test"}, body)}, c);
  const std::string data = r.output.substr(r.output.find("DATA\r\n") + 6);
  size_t lines = 0;
  for (size_t pos = 0; pos < data.size(); ++lines) {
    size_t end = data.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - pos, 998u) << "line " << lines;
    pos = end + 2;
  }
  EXPECT_EQ(lines, 2u + 3u + 2u + 2u + 1u);  // header, blank, a*3, .b*2, c+é*2, dot
  // The fold never splits the two octets of "é".
  EXPECT_NE(data.find("c\r\n \xc3\xa9\r\n"), std::string::npos);
}

TEST(ClientSessionTest, ContentAndParametersAreCheckedBeforeSending) {
  ClientAction utf8 = send({"r@b.test"});
  utf8.smtputf8 = true;
  ClientAction unsafe = send({"evil@b.test>\r\nRCPT TO:<x@y.test", "ok@b.test"});
  ClientAction big = send({"r@b.test"}, std::string(2000, 'x'));
  ClientRun r = run(std::string(kGreeting) +
                        "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
                        "250 Ok\r\n250 Ok\r\n354 go\r\n250 Ok\r\n",
                    {utf8, big, unsafe});
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(format_reply(r.results[0].recipients[0].reply), "553 5.6.7 SMTPUTF8 is required, but was not offered by the server");
  EXPECT_TRUE(r.results[0].recipients[0].reply.local);
  EXPECT_EQ(r.results[1].recipients[0].reply.code, 552);
  EXPECT_EQ(r.results[1].recipients[0].reply.enhanced, "5.3.4");
  EXPECT_EQ(r.results[2].recipients[0].reply.code, 553);
  EXPECT_EQ(r.results[2].recipients[1].reply.code, 250);
  EXPECT_EQ(r.output.find("evil"), std::string::npos);
}

TEST(ClientSessionTest, TimeoutAndLossNameThePhase) {
  ClientSession c(config());
  c.on_timeout();
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(c.failed());
  EXPECT_EQ(format_reply(c.failure()), "451 4.4.2 timeout while waiting for the greeting reply");

  ClientSession idle(config());
  idle.consume(std::string(kGreeting) + kFullEhlo);
  idle.on_connection_lost();
  EXPECT_TRUE(idle.closed());
  EXPECT_FALSE(idle.failed());  // a pooled connection the server dropped
}

TEST(ClientSessionTest, LossInDataDefersAndMarksTheResult) {
  ClientConfig c = config();
  c.use_chunking = false;
  ClientAction lost;
  lost.kind = ClientAction::kLost;
  ClientRun r = run(std::string(kGreeting) + kFullEhlo + "250 Ok\r\n250 Ok\r\n354 go\r\n",
                    {send({"r@b.test"}), lost}, c);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_TRUE(r.results[0].connection_lost);
  EXPECT_EQ(format_reply(r.results[0].recipients[0].reply),
            "451 4.4.2 lost connection while waiting for the dot reply");
  EXPECT_TRUE(r.failed);
}

TEST(ClientSessionTest, UnsolicitedReplyWhileIdleIsAnError) {
  ClientRun r = run(std::string(kGreeting) + kFullEhlo + "250 what\r\n", {});
  EXPECT_TRUE(r.closed);
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(format_reply(r.failure), "451 4.5.0 unexpected reply: 250 what");
}

TEST(ClientSessionTest, TooManyReplyLinesFail) {
  std::string ehlo;
  for (int i = 0; i < 101; ++i) {
    ehlo += "250-X" + std::to_string(i) + "\r\n";
  }
  ClientRun r = run(std::string(kGreeting) + ehlo + "250 Y\r\n", {send({"r@b.test"})});
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.failure.text, "malformed reply from the server: reply has too many lines");
  EXPECT_EQ(r.sent, 0u);
}

TEST(ClientSessionTest, RsetRefusedDefersInsteadOfBouncing) {
  ClientRun r = run(std::string(kGreeting) + kFullEhlo +
                        "250 Ok\r\n550 no\r\n554 no valid recipients\r\n"
                        "502 5.5.2 no RSET here\r\n250 Ok\r\n250 Ok\r\n250 Ok\r\n",
                    {send({"r1@b.test"}), send({"r2@b.test"})});
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].recipients[0].reply.code, 550);
  EXPECT_EQ(format_reply(r.results[1].recipients[0].reply),
            "451 4.5.0 RSET refused: 502 5.5.2 no RSET here");
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.output.substr(r.output.size() - 6), "QUIT\r\n");
}

}  // namespace
}  // namespace ringmta::proto

namespace ringmta::proto {
namespace {

const char kTlsGreeting[] = "220 mx.test ESMTP\r\n";
const char kTlsEhlo[] = "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
const char kPlainEhlo[] = "250-mx.test\r\n250 PIPELINING\r\n";

ClientConfig tls_config(TlsPolicy p) {
  ClientConfig c;
  c.helo_name = "client.test";
  c.tls = p;
  return c;
}

TEST(ClientSessionTls, StartTlsThenEhloAgain) {
  ClientSession c(tls_config(TlsPolicy::kOpportunistic));
  c.consume(std::string(kTlsGreeting) + kTlsEhlo);
  EXPECT_EQ(c.output(), "EHLO client.test\r\nSTARTTLS\r\n");
  c.output().clear();
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(c.phase(), "starttls");
  // Bytes after the 220 are not taken: the engine discards them.
  std::string in = "220 2.0.0 Ready to start TLS\r\n250 injected\r\n";
  EXPECT_EQ(c.consume(in), strlen("220 2.0.0 Ready to start TLS\r\n"));
  EXPECT_TRUE(c.wants_tls());
  EXPECT_FALSE(c.ready());
  c.on_tls_established();
  EXPECT_TRUE(c.tls_active());
  EXPECT_FALSE(c.wants_tls());
  EXPECT_FALSE(c.caps().starttls);  // forgotten until the new EHLO
  EXPECT_EQ(c.output(), "EHLO client.test\r\n");
  c.output().clear();
  c.consume("250-mx.test\r\n250 PIPELINING\r\n");
  EXPECT_TRUE(c.ready());
  EXPECT_TRUE(c.caps().pipelining);
  EXPECT_EQ(c.output(), "");  // no second STARTTLS
}

TEST(ClientSessionTls, OpportunisticGoesOnInPlaintext) {
  ClientSession c(tls_config(TlsPolicy::kOpportunistic));
  c.consume(std::string(kTlsGreeting) + kPlainEhlo);
  EXPECT_TRUE(c.ready());
  EXPECT_EQ(c.output(), "EHLO client.test\r\n");

  ClientSession refused(tls_config(TlsPolicy::kOpportunistic));
  refused.consume(std::string(kTlsGreeting) + kTlsEhlo + "454 4.7.0 TLS not available\r\n");
  EXPECT_TRUE(refused.ready());
  EXPECT_FALSE(refused.tls_active());
}

TEST(ClientSessionTls, RequiredFailsWithoutTlsAndNeverBounces) {
  ClientSession none(tls_config(TlsPolicy::kRequired));
  none.consume(std::string(kTlsGreeting) + kPlainEhlo);
  EXPECT_TRUE(none.failed());
  EXPECT_EQ(none.failure().code, 451);
  EXPECT_EQ(none.failure().enhanced, "4.7.4");

  ClientSession refused(tls_config(TlsPolicy::kRequired));
  refused.consume(std::string(kTlsGreeting) + kTlsEhlo + "554 5.7.0 no TLS for you\r\n");
  EXPECT_TRUE(refused.failed());
  EXPECT_EQ(refused.failure().code, 451);  // a 5xx to STARTTLS defers, never bounces
}

TEST(ClientSessionTls, OffNeverSendsStartTls) {
  ClientSession c(tls_config(TlsPolicy::kOff));
  c.consume(std::string(kTlsGreeting) + kTlsEhlo);
  EXPECT_TRUE(c.ready());
  EXPECT_EQ(c.output(), "EHLO client.test\r\n");
}

}  // namespace
}  // namespace ringmta::proto
