// proto/server_session.h — the inbound ESMTP server as a pure state machine.
//
// Bytes in, reply bytes and completed messages out; no I/O, no clock of its
// own beyond the injected one, no threads. engine/ feeds it what recv()
// returned and sends what it produced. Usage:
//
//   ServerSession s(config, {.addr = "127.0.0.1"});
//   s.start();                                // queues the 220 greeting
//   size_t used = s.consume(bytes);           // may stop early, see below
//   send(s.output()); s.output().clear();
//   if (s.message_ready()) {
//     CompletedMessage m = s.take_message();  // spool it, then:
//     s.on_stored();  /* or */  s.on_store_failed();
//   }
//   if (s.closing() && s.output().empty()) close();
//
// STARTTLS and AUTH (off unless SessionConfig turns them on):
//
//   if (s.wants_tls()) {         // the 220 to STARTTLS is in output()
//     send(s.output()); s.output().clear();
//     drop every received byte not yet consumed;   // CVE-2011-0411
//     handshake();  s.on_tls_established("TLSv1.3", "TLS_AES_256_GCM_SHA384");
//   }
//   if (s.auth_pending()) {      // waiting() stays true until the result
//     AuthRequest r = s.take_auth_request();
//     check r.user / r.password off the hot path, then, later:
//     s.on_auth_result(ok);      // a failure may be answered after a delay
//   }
//
// consume() stops before the end of its input when the session must wait:
// after the end of a message (until on_stored/on_store_failed, so replies
// stay in command order even when the client pipelined past the message),
// or when the session is closing. The caller keeps the unconsumed bytes and
// offers them again once waiting() is false.
//
// Line endings: commands end at CRLF; a bare LF also ends a command line
// (clients in the wild send it, and a command cannot smuggle data). In
// DATA only CRLF.CRLF ends the message; bare CR and bare LF are normalized
// to CRLF in the stored body, so nothing we store or relay later can be
// re-read as a different message boundary (SMTP smuggling).
//
// STARTTLS (RFC 3207): the session answers 220 and then wants_tls() is
// true. consume() returned having used exactly the octets up to the end of
// the STARTTLS line; every octet offered to it afterwards, until
// on_tls_established(), is dropped (reported used, never executed): the
// client sent it in plaintext, and an attacker may have injected it
// (CVE-2011-0411). The engine must also drop what it still buffers. After
// on_tls_established() the session is as right after the greeting (RFC
// 3207 4.2): no EHLO, no transaction, not authenticated; no new greeting
// is sent. STARTTLS during a transaction is refused (503) rather than
// silently discarding the client's MAIL and RCPTs.
//
// AUTH (RFC 4954, PLAIN and LOGIN): once the client's credentials are
// complete, auth_pending() is true and the session waits, exactly as for a
// store: consume() takes nothing and waiting() is true (so the engine
// buffers input, does not apply the idle timeout, and does not shut the
// session down) until on_auth_result(). The engine checks credentials off
// the shard's hot path and answers later; it should answer a failure late
// (a delay of about a second slows guessing), which is why the delay is
// not the session's job. No callback holds a pointer to the session: the
// engine finds the session by its slot and generation when the answer comes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "proto/envelope.h"

namespace ringmta::proto {

struct SessionLimits {
  size_t max_command_line = 512;       // octets including CRLF (RFC 5321 4.5.3.1.4)
  size_t max_text_line = 1000;         // longer lines are accepted and counted
  uint64_t max_message_size = 50ull << 20;  // after dot-unstuffing
  size_t max_recipients = 1000;
  int max_errors = 20;                 // bad commands before 421 and close
  // Commands other than MAIL, RCPT, DATA, BDAT and QUIT since the last
  // accepted message (NOOP, RSET, VRFY, EHLO, ...): beyond this, 421 4.7.0
  // and close. Stops a client that holds a connection busy without
  // sending mail (Postfix's smtpd_junk_command_limit). 0: no limit.
  size_t max_junk_commands = 100;
};

// SessionConfig is shared by every session of a shard; it must outlive them.
struct SessionConfig {
  std::string hostname = "localhost";
  SessionLimits limits;
  // Domains accepted from any client. Clients with may_relay may send to any.
  absl::flat_hash_set<std::string> local_domains;  // lower case
  // Feedback domains (engine/suppression/feedback.h): the reports that come
  // back to ringmta's own VERP return paths. Accepted from any client, with
  // local parts past 64 octets (a VERP token), and a message only for them
  // is not held to require_list_unsubscribe (a DSN has no unsubscribe
  // link). Lower case.
  absl::flat_hash_set<std::string> feedback_domains;
  // postmaster: where RCPT TO:<postmaster> (RFC 5321 4.5.1, no domain) is
  // delivered, a full address. Empty: <postmaster> is refused (550 5.1.1),
  // since ringmta has no mailbox of its own and a message it cannot deliver
  // would bounce to a sender anyone can forge (backscatter).
  std::string postmaster;
  // Returns a fresh queue id; called once per message at DATA/first BDAT.
  std::function<std::string()> new_queue_id;
  // Clock for Received/Date headers; tests inject a fixed one.
  std::function<absl::Time()> clock = [] { return absl::Now(); };

  // STARTTLS and AUTH; all off by default, so that nothing is advertised
  // until the engine can do its half.
  bool starttls_available = false;  // the engine has a certificate
  bool auth_available = false;      // the engine answers take_auth_request()
  // AUTH is offered only under TLS: PLAIN and LOGIN send the password in the
  // clear. false only behind a TLS-terminating proxy.
  bool auth_requires_tls = true;
  // MAIL needs a successful AUTH first (530 5.7.0), unless the client is in
  // the relay networks.
  bool auth_required = false;
  // Refuse at the end of data (550 5.7.1) a message without List-Unsubscribe
  // and List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058): a
  // policy for bulk streams, which Gmail and Yahoo require.
  bool require_list_unsubscribe = false;
  // rcpt_refusal: the engine's last word on a recipient the session would
  // accept (the suppression list): a whole reply line ("550 5.7.1 <a@b>:
  // ...") refuses it, "" accepts it. Unset: every recipient is accepted.
  // A refusal is not counted as a client error: a bulk sender's list may
  // hold many suppressed addresses, and that is not abuse.
  std::function<std::string(std::string_view rcpt)> rcpt_refusal;
};

struct ClientInfo {
  std::string addr;        // peer IP as text
  bool may_relay = false;  // peer is in the relay networks
  // tls: the listener is implicit TLS (port 465): the session starts
  // encrypted, never offers STARTTLS, and may offer AUTH at once.
  bool tls = false;
};

// AuthRequest is one set of credentials for the engine to check.
struct AuthRequest {
  std::string mechanism;  // "PLAIN" or "LOGIN", for the log
  std::string user;       // authcid: valid UTF-8, no controls, 1..255 octets
  std::string password;   // 1..255 octets, no NUL; wipe after use
};

// CompletedMessage is one accepted message, ready to spool. The stored
// message is trace_headers followed by body (two pieces so that nothing is
// copied to prepend headers).
struct CompletedMessage {
  std::string queue_id;
  Envelope envelope;
  absl::Time arrival;
  std::string trace_headers;  // Received:, and Date:/Message-ID: when missing
  std::string body;           // CRLF-normalized, dot-unstuffed
  bool has_long_lines = false;  // a line exceeded max_text_line
};

class ServerSession {
 public:
  ServerSession(const SessionConfig& config, ClientInfo client);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // start queues the 220 greeting.
  void start();
  // consume feeds received bytes; returns how many it used (see header).
  size_t consume(std::string_view in);
  // output holds reply bytes not yet handed to the socket.
  std::string& output();

  // waiting is true while a completed message awaits its store result, or
  // an AUTH request awaits on_auth_result().
  bool waiting() const;
  bool message_ready() const;
  CompletedMessage take_message();
  // on_stored replies "250 2.0.0 Ok: queued as ID"; on_store_failed 451 4.3.0.
  void on_stored();
  void on_store_failed();

  // closing: stop reading; close once output() has been sent.
  bool closing() const;
  // in_message is true between DATA's 354 (or the first BDAT) and the end
  // of the message: the idle timeout for data applies, and shutdown waits.
  bool in_message() const;
  // on_timeout queues 421 4.4.2 and closes; on_shutdown queues 421 4.3.2.
  void on_timeout();
  void on_shutdown();
  // on_session_expired queues 421 4.4.2 (the session lasted too long);
  // on_auth_blocked answers a pending AUTH, or says at once, 421 4.7.0 (too
  // many failed AUTHs from this client). Both close.
  void on_session_expired();
  void on_auth_blocked();
  // commands counts command lines (and SASL responses) handled so far:
  // the engine's idle timer restarts on a new command, not on every byte,
  // so that a client trickling bytes cannot hold a session forever.
  uint64_t commands() const;
  // message_bytes: bytes of the current message received so far (0 outside
  // one), for the engine's minimum data rate.
  uint64_t message_bytes() const;

  // wants_tls: the 220 to STARTTLS is queued; send output(), drop unread
  // input, run the handshake. consume() drops its input meanwhile.
  bool wants_tls() const;
  // on_tls_established records the handshake's result and resets the
  // session after STARTTLS (see the header). On an implicit TLS session
  // (ClientInfo::tls) it only records version and cipher, for Received:.
  // Ignored when neither applies.
  void on_tls_established(std::string_view version, std::string_view cipher);
  // tls_active: STARTTLS completed, or an implicit TLS session.
  bool tls_active() const;

  // auth_pending: credentials are ready to be taken (like message_ready).
  bool auth_pending() const;
  // take_auth_request moves the credentials out; the session keeps
  // waiting() until on_auth_result(). Empty when none is pending.
  AuthRequest take_auth_request();
  // on_auth_result answers the taken request: 235 2.7.0 and the session is
  // authenticated, or 535 5.7.8 (counted toward max_errors). Ignored when
  // no request is outstanding; silent after a 421.
  void on_auth_result(bool ok);
  // on_auth_unavailable answers the taken request with 454 4.7.0: the
  // engine could not check it now (its checker is overloaded).
  void on_auth_unavailable();
  // authenticated / auth_user: the successful AUTH's user ("" before).
  bool authenticated() const;
  const std::string& auth_user() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

}  // namespace ringmta::proto
