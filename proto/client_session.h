// proto/client_session.h — the outbound ESMTP client as a pure state machine.
//
// Server bytes in, command bytes and per-recipient results out; no I/O, no
// clock, no threads. engine/ connects, feeds what recv() returned, sends
// what the session produced, and runs the timers. Usage:
//
//   ClientSession c(config);                  // waits for the 220 greeting
//   size_t used = c.consume(bytes);           // may stop early, see below
//   send(c.output()); c.output().clear();
//   if (c.ready()) c.send_message(msg);       // or c.quit()
//   if (c.has_result()) { TransactionResult r = c.take_result(); ... }
//   if (c.closed() && c.output().empty()) close();
//   on a timer for c.phase():  c.on_timeout();   on EOF/error: c.on_connection_lost();
//
// consume() stops right after a reply that leaves nothing awaited: a result
// is ready, the handshake is done, or the session closed. The caller keeps
// the unconsumed bytes and offers them again after acting (taking the
// result, sending the next message); bytes offered while nothing is awaited
// are a server's unsolicited reply (421 closes, anything else is an error).
//
// What goes on the wire:
// - EHLO, or HELO when EHLO gets a 5xx. A greeting other than 220, an EHLO
//   4xx, or a refused HELO fail the session (QUIT is sent unless it was 421).
// - PIPELINING offered: MAIL, every RCPT and DATA (or BDAT) in one write.
//   Otherwise lock-step. CHUNKING offered: one "BDAT <n> LAST" with the whole
//   content; otherwise DATA, dot-stuffed content, ".".
// - The content (trace_headers + body) is copied once into output(), in
//   the wire form of proto/client_content.h: CRLF line ends (bare CR/LF
//   normalized), lines over max_line folded with CRLF + space, DATA's dots
//   stuffed.
// - MAIL carries SIZE=<n> when SIZE is offered, BODY=8BITMIME when the
//   message is 8-bit and 8BITMIME is offered (when it is not, the message is
//   sent anyway, as Postfix does: nearly every server takes 8-bit octets;
//   no downgrade to quoted-printable), and SMTPUTF8 when the message needs it.
// - Checked before sending, with a local result for every recipient and
//   nothing written: the message is bigger than the server's SIZE (552
//   5.3.4), or needs SMTPUTF8 which is not offered (553 5.6.7, RFC 6531 3.4).
// - After a transaction that ended abnormally (every RCPT refused, DATA or
//   BDAT refused) RSET is sent lazily, in front of the next MAIL (pipelined
//   with it when PIPELINING is on); quit() sends only QUIT.
//
// Results: each recipient gets the RCPT reply when it was not 2xx, else the
// end-of-data (or BDAT) reply (LMTP: its own reply after the data); every recipient gets MAIL's reply when MAIL
// was refused. A 421 anywhere gives the unresolved recipients that 421 and
// closes the session. Local replies (Reply::local) are 451 4.4.2 for a
// timeout or a lost connection, 451 4.5.0 for a malformed reply.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/client_content.h"
#include "proto/envelope.h"
#include "proto/reply_parser.h"

namespace ringmta::proto {

// TlsPolicy is what a connection does about STARTTLS (RFC 3207).
enum class TlsPolicy : uint8_t {
  kOff,            // never
  kOpportunistic,  // when offered; plaintext when not (RFC 7435)
  kRequired,       // fail the session when not offered or refused
};

struct ClientConfig {
  std::string helo_name = "localhost";  // EHLO/HELO argument
  bool use_pipelining = true;           // when the server offers it
  bool use_chunking = true;             // when the server offers it
  size_t max_line = kMaxWireLine;              // octets, CRLF excluded (RFC 5322 2.1.1)
  TlsPolicy tls = TlsPolicy::kOff;
  // lmtp: speak LMTP (RFC 2033) instead: LHLO (no HELO fallback), never
  // BDAT, and one reply per accepted recipient after the end of data,
  // each that recipient's result.
  bool lmtp = false;
};

// OutboundMessage is one transaction. The views (and what they point to)
// must stay valid until its result has been taken.
struct OutboundMessage {
  std::string_view sender;              // "" is the null sender <>
  std::vector<std::string> recipients;  // "local@domain", at least one
  std::string_view trace_headers;       // stored content = trace_headers + body
  std::string_view body;
  bool smtputf8 = false;  // needs SMTPUTF8 (the envelope flag, or UTF-8 addresses)
  BodyType body_type = BodyType::kUnspecified;  // k8BitMime: content has 8-bit octets
};

struct RecipientResult {
  Reply reply;  // final for this attempt: 2xx delivered, 4xx defer, 5xx bounce
  // rcpt_refused: the reply is the server's own answer to this recipient's
  // RCPT TO — a verdict on the address — not a refusal of the sender, of
  // the content or of the session copied to every recipient.
  bool rcpt_refused = false;
};

struct TransactionResult {
  std::vector<RecipientResult> recipients;  // in OutboundMessage::recipients order
  // The reply to DATA (when not 354), the end of data, or BDAT; code 0 when
  // not reached (MAIL refused, 421, checks before sending).
  Reply data_reply;
  bool connection_lost = false;  // ended by on_connection_lost/on_timeout
};

class ClientSession {
 public:
  using Capabilities = EhloCapabilities;

  explicit ClientSession(const ClientConfig& config);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // consume feeds server bytes; returns how many it used (see the header).
  size_t consume(std::string_view in);
  // output holds command and content bytes not yet handed to the socket.
  std::string& output();

  // ready is true when the handshake is done and no transaction, result or
  // reply is pending: send_message() or quit() may be called.
  bool ready() const;
  // send_message starts a transaction; false (nothing done) unless ready().
  // A message refused by the checks above has its result at once.
  bool send_message(const OutboundMessage& message);
  bool has_result() const;
  TransactionResult take_result();

  // quit sends QUIT; closed() once the server answers (or the engine closes
  // after a short wait: nothing is lost by not hearing the 221).
  void quit();

  // STARTTLS: after the server's 220 to STARTTLS, wants_tls() is true and
  // the session waits. The engine discards any bytes that followed the 220
  // (they were sent in plaintext: response injection), runs the TLS
  // handshake, then calls on_tls_established(): the session forgets what
  // the plaintext EHLO said and sends EHLO again, through TLS.
  bool wants_tls() const;
  void on_tls_established();
  bool tls_active() const;
  // on_connection_lost / on_timeout: unresolved recipients get a local 451
  // 4.4.2 result, and the session is closed.
  void on_connection_lost();
  void on_timeout();

  // closed: nothing more will happen; close once output() has been sent.
  bool closed() const;
  // failed: the session closed abnormally (bad greeting, EHLO and HELO
  // refused, 421, protocol error, timeout or loss with something pending);
  // failure() says why. A pooled idle connection closed by the server (421
  // or EOF while idle) is closed() but not failed().
  bool failed() const;
  const Reply& failure() const;
  const Capabilities& caps() const;
  // phase names what the oldest pending command waits for, for logs and to
  // pick the RFC 5321 4.5.3.2 timeout: "greeting", "ehlo", "helo", "idle",
  // "rset", "mail", "rcpt", "data" (354), "dot" (end of data), "bdat",
  // "quit", "closed".
  std::string_view phase() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> _impl;
};

}  // namespace ringmta::proto
