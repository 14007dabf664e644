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
};

// SessionConfig is shared by every session of a shard; it must outlive them.
struct SessionConfig {
  std::string hostname = "localhost";
  SessionLimits limits;
  // Domains accepted from any client. Clients with may_relay may send to any.
  absl::flat_hash_set<std::string> local_domains;  // lower case
  // Returns a fresh queue id; called once per message at DATA/first BDAT.
  std::function<std::string()> new_queue_id;
  // Clock for Received/Date headers; tests inject a fixed one.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

struct ClientInfo {
  std::string addr;        // peer IP as text
  bool may_relay = false;  // peer is in the relay networks
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

  // waiting is true while a completed message awaits its store result.
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

 private:
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

}  // namespace ringmta::proto
