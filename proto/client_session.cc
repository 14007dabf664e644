// proto/client_session.cc — the outbound ESMTP client state machine.
#include "proto/client_session.h"

#include <algorithm>

#include "proto/address.h"
#include "proto/client_content.h"
#include "proto/reply.h"

namespace ringmta::proto {
namespace {

// What a reply we wait for answers, in the order the commands were sent.
enum class Await : uint8_t {
  kGreeting, kEhlo, kHelo, kStartTls, kRset, kMail, kRcpt, kData, kDot, kBdat, kLoneDot, kQuit,
};

struct Expected {
  Await what;
  uint32_t recipient;  // kRcpt only
};

std::string_view await_name(Await what) {
  switch (what) {
    case Await::kGreeting: return "greeting";
    case Await::kEhlo: return "ehlo";
    case Await::kHelo: return "helo";
    case Await::kStartTls: return "starttls";
    case Await::kRset: return "rset";
    case Await::kMail: return "mail";
    case Await::kRcpt: return "rcpt";
    case Await::kData: return "data";
    case Await::kDot: return "dot";
    case Await::kBdat: return "bdat";
    case Await::kLoneDot: return "dot";
    case Await::kQuit: return "quit";
  }
  return "?";
}

bool positive(const Reply& r) { return r.code >= 200 && r.code < 300; }

// safe_path: an address we put between <> on a command line. Addresses come
// validated from the spool; this only guarantees that no byte of one can
// end the command line early (command injection).
bool safe_path(std::string_view address) {
  if (address.size() > kMaxPath) {
    return false;
  }
  for (char c : address) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      return false;
    }
  }
  return true;
}

}  // namespace

struct ClientSession::Impl {
  explicit Impl(const ClientConfig& c) : config(c), max_line(std::max<size_t>(c.max_line, 8)) {
    expect(Await::kGreeting);
  }

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

  void resolve_unresolved(const Reply& reply) {
    for (RecipientResult& r : result.recipients) {
      if (r.reply.code == 0) {
        r.reply = reply;
      }
    }
  }

  void finish_transaction() {
    resolve_unresolved(make_local_reply(451, "4.5.0", "internal error: no reply recorded"));
    in_transaction = false;
    result_ready = true;
  }

  // close_with ends the session; a transaction in progress ends with `reply`
  // for its unresolved recipients.
  void close_with(const Reply& reply, bool is_failure) {
    if (in_transaction) {
      resolve_unresolved(reply);
      finish_transaction();
    }
    expected.clear();
    head = 0;
    closed = true;
    failed = is_failure;
    failure = reply;
  }

  void fail_politely(const Reply& reply) {
    out.append("QUIT\r\n");
    close_with(reply, true);
  }

  void write_mail() {
    append_pieces(&out, {"MAIL FROM:<", message.sender, ">"});
    if (caps.size) {
      out.append(" SIZE=");
      append_decimal(&out, content_size);
    }
    if (message.body_type == BodyType::k8BitMime && caps.eightbitmime) {
      out.append(" BODY=8BITMIME");
    }
    if (message.smtputf8) {
      out.append(" SMTPUTF8");
    }
    out.append("\r\n");
    expect(Await::kMail);
  }

  // next_sendable: the first recipient at or after `from` not refused locally.
  size_t next_sendable(size_t from) const {
    while (from < result.recipients.size() && result.recipients[from].reply.code != 0) {
      ++from;
    }
    return from;
  }

  void write_rcpt(size_t i) {
    append_pieces(&out, {"RCPT TO:<", message.recipients[i], ">\r\n"});
    expect(Await::kRcpt, static_cast<uint32_t>(i));
  }

  void write_content(bool stuff) {
    out.reserve(out.size() + content_size + content_size / 32 + 8);
    append_wire_content(&out, message.trace_headers, message.body, max_line, stuff);
  }

  void write_data_or_bdat() {
    if (chunked) {
      out.append("BDAT ");
      append_decimal(&out, content_size);
      out.append(" LAST\r\n");
      write_content(false);
      expect(Await::kBdat);
    } else {
      out.append("DATA\r\n");
      expect(Await::kData);
    }
  }

  // after_rcpt_reply: lock-step goes on with the next RCPT, then DATA/BDAT
  // when someone was accepted, or leaves the RSET for the next message.
  void after_rcpt_reply() {
    if (pipelined) {
      return;
    }
    next_rcpt = next_sendable(next_rcpt);
    if (next_rcpt < message.recipients.size()) {
      write_rcpt(next_rcpt++);
    } else if (accepted_count > 0) {
      write_data_or_bdat();
    } else {
      needs_rset = true;
    }
  }

  void accepted_get(const Reply& reply) {
    for (size_t i = 0; i < accepted.size(); ++i) {
      if (accepted[i] && result.recipients[i].reply.code == 0) {
        result.recipients[i].reply = reply;
      }
    }
  }

  void on_reply(Reply& reply) {
    Expected e = expected[head++];
    if (reply.code == 421 && e.what != Await::kQuit) {
      close_with(reply, true);  // the server is going away (RFC 5321 3.8)
      return;
    }
    switch (e.what) {
      case Await::kGreeting:
        if (reply.code == 220) {
          append_pieces(&out, {"EHLO ", config.helo_name, "\r\n"});
          expect(Await::kEhlo);
        } else {
          fail_politely(reply);
        }
        break;
      case Await::kEhlo:
        if (positive(reply)) {
          caps = parse_ehlo_keywords(parser.lines());
          if (!tls_active && config.tls != TlsPolicy::kOff && caps.starttls) {
            out.append("STARTTLS\r\n");
            expect(Await::kStartTls);
          } else if (!tls_active && config.tls == TlsPolicy::kRequired) {
            fail_politely(make_local_reply(451, "4.7.4", "TLS is required, but the server does not offer STARTTLS"));
          } else {
            greeted = true;
          }
        } else if (reply.code >= 500) {
          append_pieces(&out, {"HELO ", config.helo_name, "\r\n"});
          expect(Await::kHelo);
        } else {
          fail_politely(reply);
        }
        break;
      case Await::kHelo:
        if (positive(reply) && config.tls == TlsPolicy::kRequired && !tls_active) {
          fail_politely(make_local_reply(451, "4.7.4", "TLS is required, but the server does not offer STARTTLS"));
        } else if (positive(reply)) {
          caps = Capabilities{};
          greeted = true;
        } else {
          fail_politely(reply);
        }
        break;
      case Await::kStartTls:
        if (reply.code == 220) {
          tls_wanted = true;
        } else if (config.tls == TlsPolicy::kRequired) {
          // Even a 5xx here must not bounce anyone: defer (local 4xx).
          fail_politely(make_local_reply(451, "4.7.4", "TLS is required, but STARTTLS was refused: " +
                                                           format_reply(reply)));
        } else {
          greeted = true;  // opportunistic: go on in plaintext
        }
        break;
      case Await::kRset: {
        if (!positive(reply)) {
          // The server's state is unknown: nothing sent after it can be
          // trusted, and its 5xx must not bounce anyone.
          std::string text = "RSET refused: ";
          text.append(format_reply(reply));
          fail_politely(make_local_reply(451, "4.5.0", text));
        } else if (in_transaction && !pipelined) {
          write_mail();
        }
        break;
      }
      case Await::kMail:
        if (positive(reply)) {
          mail_ok = true;
          after_rcpt_reply();
        } else {
          resolve_unresolved(reply);  // pipelined RCPT/DATA replies are ignored
        }
        break;
      case Await::kRcpt:
        if (mail_ok) {
          if (positive(reply)) {
            accepted[e.recipient] = true;
            ++accepted_count;
          } else {
            result.recipients[e.recipient].reply = reply;
          }
          after_rcpt_reply();
        }
        break;
      case Await::kData:
        if (reply.code == 354 && accepted_count > 0) {
          write_content(true);
          out.append(".\r\n");
          expect(Await::kDot);
        } else if (reply.code == 354) {
          // Every RCPT failed yet DATA was accepted: RFC 2920 3.1 says send
          // a lone dot (an empty message, which the server cannot deliver).
          out.append(".\r\n");
          expect(Await::kLoneDot);
        } else {
          if (mail_ok) {
            result.data_reply = reply;  // after a refused MAIL it is only a 503
          }
          accepted_get(reply);
          needs_rset = true;
        }
        break;
      case Await::kDot:
        result.data_reply = reply;
        accepted_get(reply);
        break;
      case Await::kBdat:
        if (mail_ok) {
          result.data_reply = reply;
        }
        accepted_get(reply);
        needs_rset = !positive(reply);
        break;
      case Await::kLoneDot:
        needs_rset = true;
        break;
      case Await::kQuit:
        closed = true;
        break;
    }
    if (in_transaction && !awaiting() && !closed) {
      finish_transaction();
    }
  }

  void on_unsolicited(const Reply& reply) {
    // A 421 to an idle pooled connection is the server's idle timeout:
    // normal, nothing lost. Anything else means we lost track.
    if (reply.code == 421) {
      close_with(reply, false);
    } else {
      std::string text = "unexpected reply: ";
      text.append(format_reply(reply));
      close_with(make_local_reply(451, "4.5.0", text), true);
    }
  }

  void end_abruptly(std::string_view what) {
    if (closed) {
      return;
    }
    const bool pending = awaiting() && expected[head].what != Await::kQuit;
    if (!pending) {
      close_with(make_local_reply(451, "4.4.2", what), false);
      return;
    }
    std::string text(what);
    append_pieces(&text, {" while waiting for the ", await_name(expected[head].what), " reply"});
    if (in_transaction) {
      result.connection_lost = true;
    }
    close_with(make_local_reply(451, "4.4.2", text), true);
  }
};

ClientSession::ClientSession(const ClientConfig& config)
    : _impl(std::make_unique<Impl>(config)) {}

ClientSession::~ClientSession() = default;

size_t ClientSession::consume(std::string_view in) {
  Impl& s = *_impl;
  size_t pos = 0;
  while (pos < in.size() && !s.closed) {
    size_t used = 0;
    ReplyParser::Status status = s.parser.parse(in.substr(pos), &used);
    pos += used;
    if (status == ReplyParser::Status::kNeedMore) {
      break;
    }
    if (status == ReplyParser::Status::kError) {
      std::string text = "malformed reply from the server: ";
      text.append(s.parser.error());
      s.close_with(make_local_reply(451, "4.5.0", text), true);
      break;
    }
    if (s.awaiting()) {
      s.on_reply(s.parser.reply());
    } else {
      s.on_unsolicited(s.parser.reply());
    }
    if (!s.awaiting()) {
      break;  // the engine acts before the next reply is read
    }
  }
  return s.closed ? in.size() : pos;
}

std::string& ClientSession::output() { return _impl->out; }

bool ClientSession::wants_tls() const { return _impl->tls_wanted && !_impl->closed; }

bool ClientSession::tls_active() const { return _impl->tls_active; }

void ClientSession::on_tls_established() {
  Impl& s = *_impl;
  s.tls_wanted = false;
  s.tls_active = true;
  s.caps = Capabilities{};  // RFC 3207 4.2: forget what the plaintext EHLO said
  append_pieces(&s.out, {"EHLO ", s.config.helo_name, "\r\n"});
  s.expect(Await::kEhlo);
}

bool ClientSession::ready() const {
  const Impl& s = *_impl;
  return s.greeted && !s.closed && !s.in_transaction && !s.result_ready && !s.awaiting();
}

bool ClientSession::send_message(const OutboundMessage& message) {
  Impl& s = *_impl;
  if (!ready() || message.recipients.empty()) {
    return false;
  }
  s.message = message;
  const size_t n = message.recipients.size();
  s.result = TransactionResult{};
  s.result.recipients.resize(n);
  s.accepted.assign(n, false);
  s.accepted_count = 0;
  s.mail_ok = false;
  s.content_size = wire_content_size(message.trace_headers, message.body, s.max_line);

  Reply refusal;
  if (!safe_path(message.sender)) {
    refusal = make_local_reply(553, "5.1.7", "unsafe sender address");
  } else if (message.smtputf8 && !s.caps.smtputf8) {
    refusal = make_local_reply(553, "5.6.7", "SMTPUTF8 is required, but was not offered by the server");
  } else if (s.caps.size && s.caps.max_size > 0 && s.content_size > s.caps.max_size) {
    std::string text = "message size ";
    append_decimal(&text, s.content_size);
    text.append(" exceeds the server's limit of ");
    append_decimal(&text, s.caps.max_size);
    refusal = make_local_reply(552, "5.3.4", text);
  }
  for (size_t i = 0; i < n && refusal.code == 0; ++i) {
    if (!safe_path(message.recipients[i])) {
      s.result.recipients[i].reply = make_local_reply(553, "5.1.3", "unsafe recipient address");
    }
  }
  if (refusal.code != 0 || s.next_sendable(0) == n) {
    s.resolve_unresolved(refusal);
    s.result_ready = true;
    return true;
  }

  s.in_transaction = true;
  s.pipelined = s.caps.pipelining && s.config.use_pipelining;
  s.chunked = s.caps.chunking && s.config.use_chunking;
  s.next_rcpt = 0;
  if (s.needs_rset) {
    s.needs_rset = false;
    s.out.append("RSET\r\n");
    s.expect(Await::kRset);
    if (!s.pipelined) {
      return true;  // MAIL follows RSET's reply
    }
  }
  s.write_mail();
  if (s.pipelined) {
    for (size_t i = s.next_sendable(0); i < n; i = s.next_sendable(i + 1)) {
      s.write_rcpt(i);
    }
    s.write_data_or_bdat();
  }
  return true;
}

bool ClientSession::has_result() const { return _impl->result_ready; }

TransactionResult ClientSession::take_result() {
  Impl& s = *_impl;
  s.result_ready = false;
  s.message = OutboundMessage{};
  return std::move(s.result);
}

void ClientSession::quit() {
  Impl& s = *_impl;
  if (s.closed) {
    return;
  }
  s.out.append("QUIT\r\n");
  s.expect(Await::kQuit);
}

void ClientSession::on_connection_lost() { _impl->end_abruptly("lost connection"); }

void ClientSession::on_timeout() { _impl->end_abruptly("timeout"); }

bool ClientSession::closed() const { return _impl->closed; }

bool ClientSession::failed() const { return _impl->failed; }

const Reply& ClientSession::failure() const { return _impl->failure; }

const ClientSession::Capabilities& ClientSession::caps() const { return _impl->caps; }

std::string_view ClientSession::phase() const {
  const Impl& s = *_impl;
  if (s.closed) {
    return "closed";
  }
  if (s.awaiting()) {
    return await_name(s.expected[s.head].what);
  }
  return "idle";
}

}  // namespace ringmta::proto
