// proto/client_session_impl.h — ClientSession's private state, shared by
// client_replies.cc (the reply-driven state machine) and
// client_transaction.cc (the checks before sending, and the MAIL/RCPT/DATA
// or BDAT commands and content of a transaction). Not for use outside proto/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/client_session.h"
#include "proto/reply_parser.h"

namespace ringmta::proto {

// What a reply we wait for answers, in the order the commands were sent.
enum class Await : uint8_t {
  kGreeting, kEhlo, kHelo, kStartTls, kRset, kMail, kRcpt, kData, kDot, kRcptDot, kBdat, kLoneDot, kQuit,
};

struct Expected {
  Await what;
  uint32_t recipient;  // kRcpt and kRcptDot only
};

struct ClientSession::Impl {
  explicit Impl(const ClientConfig& c);

  const ClientConfig config;  // a copy: small, and no lifetime to get wrong
  size_t max_line;
  ReplyParser parser;
  std::string out;
  std::vector<Expected> expected;  // replies still to come, from `head` on
  size_t head = 0;
  Capabilities caps;
  Reply failure;
  bool greeted = false;  // EHLO/HELO done
  bool tls_wanted = false;  // the server said 220 to STARTTLS; the engine's turn
  bool tls_active = false;
  bool closed = false;
  bool failed = false;
  bool needs_rset = false;

  // The transaction in progress (or whose result waits to be taken).
  bool in_transaction = false;
  bool result_ready = false;
  bool pipelined = false;
  bool chunked = false;
  bool mail_ok = false;
  OutboundMessage message;
  TransactionResult result;
  std::vector<bool> accepted;
  size_t accepted_count = 0;
  size_t next_rcpt = 0;  // lock-step: the next recipient to send
  uint64_t content_size = 0;

  bool awaiting() const { return head < expected.size(); }

  void expect(Await what, uint32_t recipient = 0) {
    if (head == expected.size()) {
      expected.clear();  // keeps its capacity: one allocation per connection
      head = 0;
    }
    expected.push_back({what, recipient});
  }

  // client_replies.cc
  void write_hello();
  void resolve_unresolved(const Reply& reply);
  void finish_transaction();
  // close_with ends the session; a transaction in progress ends with `reply`
  // for its unresolved recipients.
  void close_with(const Reply& reply, bool is_failure);
  void fail_politely(const Reply& reply);
  // after_rcpt_reply: lock-step goes on with the next RCPT, then DATA/BDAT
  // when someone was accepted, or leaves the RSET for the next message.
  void after_rcpt_reply();
  void accepted_get(const Reply& reply);
  void on_reply(Reply& reply);
  void on_unsolicited(const Reply& reply);
  void end_abruptly(std::string_view what);

  // client_transaction.cc
  void write_mail();
  // next_sendable: the first recipient at or after `from` not refused locally.
  size_t next_sendable(size_t from) const;
  void write_rcpt(size_t i);
  void write_content(bool stuff);
  void write_data_or_bdat();
};

}  // namespace ringmta::proto
