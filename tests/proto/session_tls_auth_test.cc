// tests/proto/session_tls_auth_test.cc — STARTTLS (RFC 3207) and AUTH
// (RFC 4954) in the server session; every input fed whole and in pieces.
#include <string>

#include <gtest/gtest.h>

#include "proto/server_session.h"
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
using testing::tls_test_config;

// fresh copies `c` with its own queue id counter, so each run starts at Q0001.
SessionConfig fresh(const SessionConfig& c) {
  SessionConfig f = test_config();
  f.limits = c.limits;
  f.local_domains = c.local_domains;
  f.starttls_available = c.starttls_available;
  f.auth_available = c.auth_available;
  f.auth_requires_tls = c.auth_requires_tls;
  f.auth_required = c.auth_required;
  return f;
}

// run runs `input` (crlf() applied) with every fragment size and checks
// that they agree.
SessionRun run(std::string_view text, RunOptions options = {},
               const SessionConfig& config = tls_test_config()) {
  const std::string input = crlf(text);
  options.fragment = 0;
  SessionRun whole = run_session(fresh(config), input, options);
  for (size_t size : kFragmentSizes) {
    options.fragment = size;
    SessionRun part = run_session(fresh(config), input, options);
    EXPECT_EQ(part.output, whole.output) << "fragment size " << size;
    EXPECT_EQ(part.closing, whole.closing) << "fragment size " << size;
    EXPECT_EQ(part.auth_requests.size(), whole.auth_requests.size()) << "fragment size " << size;
    EXPECT_EQ(part.tls_handshakes, whole.tls_handshakes) << "fragment size " << size;
    EXPECT_EQ(part.held_at_handshake, 0u) << "fragment size " << size;
    EXPECT_EQ(part.messages.size(), whole.messages.size()) << "fragment size " << size;
    for (size_t i = 0; i < part.messages.size() && i < whole.messages.size(); ++i) {
      EXPECT_EQ(part.messages[i].trace_headers, whole.messages[i].trace_headers);
    }
  }
  return whole;
}

const char kGreeting[] = "220 mx.test ESMTP ringmta\r\n";
const char kEhloHead[] = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
                         "250-SMTPUTF8\r\n250-CHUNKING\r\n";
const char kEhloTail[] = "250 ENHANCEDSTATUSCODES\r\n";
const std::string kEhloPlain = std::string(kEhloHead) + kEhloTail;
const std::string kEhloStartTls = std::string(kEhloHead) + "250-STARTTLS\r\n" + kEhloTail;
const std::string kEhloAuth = std::string(kEhloHead) + "250-AUTH PLAIN LOGIN\r\n" + kEhloTail;
const std::string kEhloBoth =
    std::string(kEhloHead) + "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n" + kEhloTail;

// The start of a session that has switched to TLS.
const char kTls[] = "EHLO c\nSTARTTLS\n--- TLS ---\nEHLO c\n";
const std::string kTlsOut = std::string(kGreeting) + kEhloStartTls +
                            "220 2.0.0 Ready to start TLS\r\n" + kEhloAuth;
const char kPlainAlice[] = "AGFsaWNlAHNlY3JldA==";  // "\0alice\0secret"

TEST(SessionTlsAuthTest, EhloOffersWhatTheConnectionMayUseNow) {
  EXPECT_EQ(run("EHLO c\n", {}, test_config()).output, kGreeting + kEhloPlain);
  EXPECT_EQ(run("EHLO c\n").output, kGreeting + kEhloStartTls);
  EXPECT_EQ(run(kTls).output, kTlsOut);
  RunOptions implicit;
  implicit.client.tls = true;
  EXPECT_EQ(run("EHLO c\n", implicit).output, kGreeting + kEhloAuth);
  SessionConfig proxy = tls_test_config();
  proxy.auth_requires_tls = false;
  EXPECT_EQ(run("EHLO c\n", {}, proxy).output, kGreeting + kEhloBoth);
  // Once authenticated, AUTH is no longer offered.
  EXPECT_EQ(run(std::string(kTls) + "AUTH PLAIN " + kPlainAlice + "\nEHLO c\n").output,
            kTlsOut + "235 2.7.0 Authentication successful\r\n" + kEhloPlain);
}

TEST(SessionTlsAuthTest, ConsumeStopsAtTheEndOfTheStartTlsLine) {
  SessionConfig config = tls_test_config();
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.start();
  const std::string head = crlf("EHLO c\nSTARTTLS\n");
  const std::string in = head + crlf("MAIL FROM:<a@b>\nRCPT TO:<x@elsewhere.example>\n");
  EXPECT_EQ(s.consume(in), head.size());
  EXPECT_TRUE(s.wants_tls());
  EXPECT_FALSE(s.tls_active());
  EXPECT_EQ(s.output(), kGreeting + kEhloStartTls + "220 2.0.0 Ready to start TLS\r\n");
  s.output().clear();
  // Anything offered before the handshake is dropped, never executed.
  const std::string rest = in.substr(head.size());
  EXPECT_EQ(s.consume(rest), rest.size());
  EXPECT_EQ(s.output(), "");
  EXPECT_FALSE(s.waiting());
  s.on_tls_established("TLSv1.3", "TLS_AES_128_GCM_SHA256");
  EXPECT_FALSE(s.wants_tls());
  EXPECT_TRUE(s.tls_active());
  EXPECT_EQ(s.output(), "");  // no second greeting (RFC 3207 4.2)
  // The plaintext EHLO is forgotten.
  s.consume(crlf("MAIL FROM:<a@b>\nEHLO c\n"));
  EXPECT_EQ(s.output(), "503 5.5.1 Error: send HELO/EHLO first\r\n" + kEhloAuth);
  // A second on_tls_established changes nothing but the recorded details.
  s.output().clear();
  s.on_tls_established("TLSv1.2", "X");
  s.consume(crlf("MAIL FROM:<a@b>\n"));
  EXPECT_EQ(s.output(), "250 2.1.0 Ok\r\n");
}

TEST(SessionTlsAuthTest, PipelinedAfterStartTlsIsNeverExecuted) {
  SessionRun r = run(
      "EHLO c\nSTARTTLS\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nx\n.\nQUIT\n"
      "--- TLS ---\nMAIL FROM:<a@b>\nEHLO c\nQUIT\n");
  EXPECT_EQ(r.output, kGreeting + kEhloStartTls + "220 2.0.0 Ready to start TLS\r\n" +
                          "503 5.5.1 Error: send HELO/EHLO first\r\n" + kEhloAuth +
                          "221 2.0.0 Bye\r\n");
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.tls_handshakes, 1);
}

TEST(SessionTlsAuthTest, StartTlsRefusals) {
  EXPECT_EQ(run("EHLO c\nSTARTTLS\n", {}, test_config()).output,
            kGreeting + kEhloPlain + "502 5.5.1 Error: command not implemented\r\n");
  SessionRun r = run(
      "EHLO c\nSTARTTLS now\nMAIL FROM:<a@b>\nSTARTTLS\nRSET\nSTARTTLS\n--- TLS ---\n"
      "STARTTLS\nEHLO c\n");
  EXPECT_EQ(r.output, kGreeting + kEhloStartTls +
                          crlf("501 5.5.4 Syntax: STARTTLS\n250 2.1.0 Ok\n"
                               "503 5.5.1 Error: MAIL transaction in progress\n250 2.0.0 Ok\n"
                               "220 2.0.0 Ready to start TLS\n"
                               "503 5.5.1 Error: TLS already active\n") +
                          kEhloAuth);
  // Refusals are errors; STARTTLS does not refill the budget.
  SessionConfig strict = tls_test_config();
  strict.limits.max_errors = 2;
  SessionRun closed = run("STARTTLS x\nSTARTTLS\n--- TLS ---\nSTARTTLS\nNOOP\n", {}, strict);
  EXPECT_TRUE(closed.closing);
  EXPECT_EQ(closed.output, kGreeting + crlf("501 5.5.4 Syntax: STARTTLS\n"
                                            "220 2.0.0 Ready to start TLS\n"
                                            "503 5.5.1 Error: TLS already active\n"
                                            "421 4.7.0 mx.test Error: too many errors\n"));
}

TEST(SessionTlsAuthTest, ImplicitTls) {
  SessionConfig config = tls_test_config();
  ServerSession s(config, {.addr = "192.0.2.1", .tls = true});
  s.start();
  EXPECT_TRUE(s.tls_active());
  s.on_tls_established("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256");
  s.consume(crlf("EHLO c\nSTARTTLS\nMAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nx\n.\n"));
  EXPECT_EQ(s.output(), kGreeting + kEhloAuth +
                            crlf("503 5.5.1 Error: TLS already active\n250 2.1.0 Ok\n250 2.1.5 Ok\n"
                                 "354 End data with <CR><LF>.<CR><LF>\n"));
  ASSERT_TRUE(s.message_ready());
  CompletedMessage m = s.take_message();
  EXPECT_NE(m.trace_headers.find("\t(using TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256)\r\n"
                                 "\tby mx.test (ringmta) with ESMTPS id Q0001\r\n"),
            std::string::npos)
      << m.trace_headers;
}

TEST(SessionTlsAuthTest, AuthPlainWithInitialResponse) {
  SessionRun r = run(std::string(kTls) + "AUTH PLAIN " + kPlainAlice +
                     "\nMAIL FROM:<a@b> AUTH=<>\nRCPT TO:<x@elsewhere.example>\nDATA\nhi\n.\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("235 2.7.0 Authentication successful\n250 2.1.0 Ok\n"
                                     "250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>\n"
                                     "250 2.0.0 Ok: queued as Q0001\n"));
  ASSERT_EQ(r.auth_requests.size(), 1u);
  EXPECT_EQ(r.auth_requests[0].mechanism, "PLAIN");
  EXPECT_EQ(r.auth_requests[0].user, "alice");
  EXPECT_EQ(r.auth_requests[0].password, "secret");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].envelope.auth_user, "alice");
  EXPECT_EQ(r.messages[0].trace_headers,
            crlf("Received: from c (192.0.2.1 [192.0.2.1])\n"
                 "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\n"
                 "\t(Authenticated sender: alice)\n"
                 "\tby mx.test (ringmta) with ESMTPSA id Q0001\n"
                 "\tfor <x@elsewhere.example>; Sun, 22 Nov 2026 10:00:00 +0000\n"
                 "Date: Sun, 22 Nov 2026 10:00:00 +0000\n"
                 "Message-ID: <Q0001@mx.test>\n"));
}

TEST(SessionTlsAuthTest, AuthPlainAndLoginExchanges) {
  SessionRun r = run(std::string(kTls) + "AUTH PLAIN\n" + kPlainAlice + "\n");
  EXPECT_EQ(r.output, kTlsOut + "334 \r\n235 2.7.0 Authentication successful\r\n");
  r = run(std::string(kTls) + "auth login\nYWxpY2U=\nc2VjcmV0\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n"
                                     "235 2.7.0 Authentication successful\n"));
  ASSERT_EQ(r.auth_requests.size(), 1u);
  EXPECT_EQ(r.auth_requests[0].mechanism, "LOGIN");
  EXPECT_EQ(r.auth_requests[0].user, "alice");
  r = run(std::string(kTls) + "AUTH LOGIN YWxpY2U=\nc2VjcmV0\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("334 UGFzc3dvcmQ6\n235 2.7.0 Authentication successful\n"));
  // authzid equal to the authcid is the same user.
  r = run(std::string(kTls) + "AUTH PLAIN YWxpY2UAYWxpY2UAc2VjcmV0\n");
  EXPECT_EQ(r.output, kTlsOut + "235 2.7.0 Authentication successful\r\n");
}

TEST(SessionTlsAuthTest, AuthCancelAndBadResponses) {
  SessionRun r = run(std::string(kTls) +
                     "AUTH PLAIN\n*\nAUTH LOGIN\nYWxpY2U=\n*\nAUTH PLAIN AGFsaWNl*\n"
                     "AUTH LOGIN\n!!!!\nAUTH PLAIN YWxpY2U=\nAUTH PLAIN =\n"
                     "AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==\nAUTH PLAIN a b\nNOOP\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("334 \n501 5.0.0 Authentication aborted\n"
                                     "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n"
                                     "501 5.0.0 Authentication aborted\n"
                                     "501 5.5.2 Error: invalid base64 in response\n"
                                     "334 VXNlcm5hbWU6\n"
                                     "501 5.5.2 Error: invalid base64 in response\n"
                                     "501 5.5.2 Error: malformed authentication response\n"
                                     "501 5.5.2 Error: malformed authentication response\n"
                                     "535 5.7.8 Authentication credentials invalid\n"
                                     "501 5.5.4 Syntax: AUTH mechanism [initial-response]\n"
                                     "250 2.0.0 Ok\n"));
  EXPECT_TRUE(r.auth_requests.empty());
}

TEST(SessionTlsAuthTest, WrongCredentialsAreErrors) {
  SessionConfig config = tls_test_config();
  config.limits.max_errors = 2;
  SessionRun r = run(std::string(kTls) + "AUTH PLAIN AGFsaWNlAHdyb25n\nAUTH LOGIN\nYWxpY2U=\nYWxpY2U=\nNOOP\n",
                     {}, config);
  EXPECT_EQ(r.output, kTlsOut + crlf("535 5.7.8 Authentication credentials invalid\n"
                                     "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n"
                                     "535 5.7.8 Authentication credentials invalid\n"
                                     "421 4.7.0 mx.test Error: too many errors\n"));
  EXPECT_TRUE(r.closing);
  EXPECT_EQ(r.auth_requests.size(), 2u);
}

TEST(SessionTlsAuthTest, AuthRefusals) {
  EXPECT_EQ(run("EHLO c\nAUTH PLAIN\n", {}, test_config()).output,
            kGreeting + kEhloPlain + "502 5.5.1 Error: command not implemented\r\n");
  SessionRun r = run("AUTH PLAIN\nEHLO c\nAUTH PLAIN\n");
  EXPECT_EQ(r.output, kGreeting + crlf("503 5.5.1 Error: send HELO/EHLO first\n") + kEhloStartTls +
                          "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
  r = run(std::string(kTls) + "MAIL FROM:<a@b>\nAUTH PLAIN\nRSET\nAUTH CRAM-MD5\nAUTH\n" +
          "AUTH PLAIN " + kPlainAlice + "\nAUTH PLAIN " + kPlainAlice + "\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("250 2.1.0 Ok\n503 5.5.1 Error: MAIL transaction in progress\n"
                                     "250 2.0.0 Ok\n"
                                     "504 5.5.4 Unrecognized authentication mechanism\n"
                                     "501 5.5.4 Syntax: AUTH mechanism [initial-response]\n"
                                     "235 2.7.0 Authentication successful\n"
                                     "503 5.5.1 Error: already authenticated\n"));
}

TEST(SessionTlsAuthTest, AuthRequiredAndRelay) {
  SessionConfig config = tls_test_config();
  config.auth_required = true;
  const char kTx[] = "MAIL FROM:<a@b>\nRCPT TO:<x@elsewhere.example>\n";
  SessionRun r = run(std::string(kTls) + kTx, {}, config);
  EXPECT_EQ(r.output, kTlsOut + crlf("530 5.7.0 Authentication required\n"
                                     "503 5.5.1 Error: need MAIL command\n"));
  r = run(std::string(kTls) + "AUTH PLAIN " + kPlainAlice + "\n" + kTx, {}, config);
  EXPECT_EQ(r.output, kTlsOut + crlf("235 2.7.0 Authentication successful\n250 2.1.0 Ok\n"
                                     "250 2.1.5 Ok\n"));
  RunOptions relay;
  relay.client.may_relay = true;
  r = run(std::string(kTls) + kTx, relay, config);
  EXPECT_EQ(r.output, kTlsOut + crlf("250 2.1.0 Ok\n250 2.1.5 Ok\n"));
  // Without AUTH, a client outside the relay networks may not relay.
  r = run(std::string(kTls) + kTx);
  EXPECT_EQ(r.output, kTlsOut + crlf("250 2.1.0 Ok\n"
                                     "554 5.7.1 <x@elsewhere.example>: Relay access denied\n"));
}

TEST(SessionTlsAuthTest, MailAuthParameterOnlyWhenAuthIsConfigured) {
  EXPECT_EQ(run("EHLO c\nMAIL FROM:<a@b> AUTH=<>\n", {}, test_config()).output,
            kGreeting + kEhloPlain + "555 5.5.4 Unsupported option: AUTH=<>\r\n");
  EXPECT_EQ(run("EHLO c\nMAIL FROM:<a@b> AUTH=x+2By@b\nRSET\nMAIL FROM:<a@b> AUTH=\n").output,
            kGreeting + kEhloStartTls +
                crlf("250 2.1.0 Ok\n250 2.0.0 Ok\n501 5.5.4 Bad parameter: AUTH=\n"));
}

TEST(SessionTlsAuthTest, StartTlsForgetsAPlaintextAuth) {
  SessionConfig proxy = tls_test_config();
  proxy.auth_requires_tls = false;
  SessionRun r = run(std::string("EHLO c\nAUTH PLAIN ") + kPlainAlice +
                         "\nSTARTTLS\n--- TLS ---\nEHLO c\nMAIL FROM:<a@b>\n"
                         "RCPT TO:<x@elsewhere.example>\n",
                     {}, proxy);
  EXPECT_EQ(r.output, kGreeting + kEhloBoth +
                          crlf("235 2.7.0 Authentication successful\n"
                               "220 2.0.0 Ready to start TLS\n") +
                          kEhloAuth +
                          crlf("250 2.1.0 Ok\n"
                               "554 5.7.1 <x@elsewhere.example>: Relay access denied\n"));
}

TEST(SessionTlsAuthTest, AuthLinesMayBeLongerThanCommands) {
  // A 600-octet AUTH line is framed whole (then refused for its content);
  // any other command of that length is still too long.
  std::string big = "AUTH PLAIN " + std::string(588, 'A') + "\n";
  std::string noop = "NOOP " + std::string(595, 'x') + "\n";
  SessionRun r = run(std::string(kTls) + big + noop + "AUTH PLAIN\n" + std::string(600, 'A') +
                     "\n" + "AUTH PLAIN " + std::string(13000, 'A') + "\nAUTH PLAIN\n" +
                     std::string(13000, 'A') + "\nNOOP\n");
  EXPECT_EQ(r.output, kTlsOut + crlf("501 5.5.2 Error: malformed authentication response\n"
                                     "500 5.5.6 Line too long\n"
                                     "334 \n501 5.5.2 Error: malformed authentication response\n"
                                     "500 5.5.6 Line too long\n"
                                     "334 \n500 5.5.6 Line too long\n250 2.0.0 Ok\n"));
  // Before TLS no AUTH can come, so the usual limit holds for it too.
  r = run("EHLO c\n" + big);
  EXPECT_EQ(r.output, kGreeting + kEhloStartTls + "500 5.5.6 Line too long\r\n");
}

TEST(SessionTlsAuthTest, SessionWaitsForTheAuthResult) {
  SessionConfig config = tls_test_config();
  ServerSession s(config, {.addr = "192.0.2.1", .tls = true});
  s.start();
  const std::string head = crlf("EHLO c\nAUTH PLAIN AGFsaWNlAHdyb25n\n");
  const std::string in = head + crlf("MAIL FROM:<a@b>\n");
  EXPECT_EQ(s.consume(in), head.size());
  EXPECT_TRUE(s.auth_pending());
  EXPECT_TRUE(s.waiting());
  EXPECT_FALSE(s.message_ready());
  EXPECT_EQ(s.consume(in.substr(head.size())), 0u);
  AuthRequest req = s.take_auth_request();
  EXPECT_EQ(req.user, "alice");
  EXPECT_EQ(req.password, "wrong");
  EXPECT_FALSE(s.auth_pending());
  EXPECT_TRUE(s.waiting());
  EXPECT_EQ(s.take_auth_request().user, "");
  EXPECT_EQ(s.consume(in.substr(head.size())), 0u);
  s.output().clear();
  s.on_auth_result(false);  // the engine answers a failure late
  EXPECT_FALSE(s.waiting());
  EXPECT_FALSE(s.authenticated());
  EXPECT_EQ(s.output(), "535 5.7.8 Authentication credentials invalid\r\n");
  s.on_auth_result(true);  // nothing outstanding: ignored
  EXPECT_FALSE(s.authenticated());
  EXPECT_EQ(s.consume(in.substr(head.size())), in.size() - head.size());
  EXPECT_EQ(s.output(), "535 5.7.8 Authentication credentials invalid\r\n250 2.1.0 Ok\r\n");
}

TEST(SessionTlsAuthTest, NothingFollowsA421WhileAuthWaits) {
  SessionConfig config = tls_test_config();
  ServerSession s(config, {.addr = "192.0.2.1", .tls = true});
  s.consume(crlf("EHLO c\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n"));
  ASSERT_TRUE(s.waiting());
  s.on_timeout();
  s.on_auth_result(true);
  EXPECT_FALSE(s.waiting());
  EXPECT_FALSE(s.authenticated());
  EXPECT_EQ(s.output().substr(s.output().size() - 43),
            "421 4.4.2 mx.test Error: timeout exceeded\r\n");
}

TEST(SessionTlsAuthTest, UnavailableAndBlockedAnswers) {
  SessionConfig config = tls_test_config();
  {
    ServerSession s(config, {.addr = "192.0.2.1", .tls = true});
    s.consume(crlf("EHLO c\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n"));
    ASSERT_TRUE(s.auth_pending());
    s.take_auth_request();
    s.output().clear();
    s.on_auth_unavailable();  // the checker is overloaded: try again later
    EXPECT_FALSE(s.waiting());
    EXPECT_FALSE(s.closing());
    EXPECT_EQ(s.output(), "454 4.7.0 Temporary authentication failure, try again later\r\n");
  }
  {
    ServerSession s(config, {.addr = "192.0.2.1", .tls = true});
    s.consume(crlf("EHLO c\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n"));
    s.take_auth_request();
    s.output().clear();
    s.on_auth_blocked();  // too many failures from this address
    EXPECT_FALSE(s.waiting());
    EXPECT_TRUE(s.closing());
    EXPECT_EQ(s.output(), "421 4.7.0 mx.test Error: too many failed authentications, try again later\r\n");
    s.on_auth_result(true);  // late: ignored
    EXPECT_FALSE(s.authenticated());
  }
}

TEST(SessionLimitsTest, CommandsWithoutAMessage) {
  SessionConfig config = testing::test_config();
  config.limits.max_junk_commands = 3;
  // EHLO, NOOP, RSET are three; the fourth is refused and the session ends.
  // MAIL, RCPT and DATA do not count, and a stored message resets the count.
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.consume(crlf("EHLO c\nNOOP\nMAIL FROM:<a@b.test>\nRCPT TO:<c@example.test>\nDATA\n"));
  EXPECT_EQ(s.commands(), 5u);
  EXPECT_TRUE(s.in_message());
  s.consume(crlf("Subject: x\n\nbody\n"));
  EXPECT_GT(s.message_bytes(), 10u);
  s.consume(crlf(".\n"));
  ASSERT_TRUE(s.message_ready());
  EXPECT_EQ(s.message_bytes(), 0u);
  s.on_stored();
  s.output().clear();
  s.consume(crlf("NOOP\nNOOP\nRSET\nNOOP\n"));
  EXPECT_TRUE(s.closing());
  EXPECT_EQ(s.output(),
            "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
            "421 4.7.0 mx.test Error: too many commands without a message\r\n");
}

TEST(SessionLimitsTest, SessionExpired) {
  SessionConfig config = testing::test_config();
  ServerSession s(config, {.addr = "192.0.2.1"});
  s.consume(crlf("EHLO c\n"));
  s.output().clear();
  s.on_session_expired();
  EXPECT_TRUE(s.closing());
  EXPECT_EQ(s.output(), "421 4.4.2 mx.test Error: session time limit exceeded\r\n");
}

TEST(SessionTlsAuthTest, ReceivedProtocolVariants) {
  auto protocol_of = [](const std::string& in, const SessionConfig& config,
                        RunOptions options = {}) {
    SessionRun r = run(in + "MAIL FROM:<a@b>\nRCPT TO:<a@example.test>\nDATA\nx\n.\n", options,
                       config);
    EXPECT_EQ(r.messages.size(), 1u) << r.output;
    if (r.messages.empty()) {
      return std::string();
    }
    const std::string& t = r.messages[0].trace_headers;
    size_t at = t.find("(ringmta) with ") + 15;
    return t.substr(at, t.find(' ', at) - at);
  };
  SessionConfig proxy = tls_test_config();
  proxy.auth_requires_tls = false;
  const std::string auth = std::string("AUTH PLAIN ") + kPlainAlice + "\n";
  EXPECT_EQ(protocol_of("EHLO c\n", tls_test_config()), "ESMTP");
  EXPECT_EQ(protocol_of(kTls, tls_test_config()), "ESMTPS");
  EXPECT_EQ(protocol_of("EHLO c\n" + auth, proxy), "ESMTPA");
  EXPECT_EQ(protocol_of(kTls + auth, tls_test_config()), "ESMTPSA");
  EXPECT_EQ(protocol_of("HELO c\n" + auth, proxy), "SMTP");
  SessionRun r = run(std::string(kTls) + auth +
                     "MAIL FROM:<\xC3\xA4@b> SMTPUTF8\nRCPT TO:<a@example.test>\nDATA\nx\n.\n");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_NE(r.messages[0].trace_headers.find(" with UTF8SMTPSA id "), std::string::npos);
  r = run("EHLO c\nMAIL FROM:<\xC3\xA4@b> SMTPUTF8\nRCPT TO:<a@example.test>\nDATA\nx\n.\n",
          {}, proxy);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_NE(r.messages[0].trace_headers.find(" with UTF8SMTP id "), std::string::npos);
}

}  // namespace
}  // namespace ringmta::proto
