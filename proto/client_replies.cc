// proto/client_replies.cc — ClientSession's reply-driven state machine:
// each awaited reply decides what is sent next, what a recipient's result
// is, and when the session ends; with the public calls that feed it.
#include <algorithm>

#include "proto/client_session_impl.h"
#include "proto/reply.h"

namespace ringmta::proto {
namespace {

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
    case Await::kRcptDot: return "dot";
    case Await::kBdat: return "bdat";
    case Await::kLoneDot: return "dot";
    case Await::kQuit: return "quit";
  }
  return "?";
}

bool positive(const Reply& r) { return r.code >= 200 && r.code < 300; }

}  // namespace

ClientSession::Impl::Impl(const ClientConfig& c) : config(c), max_line(std::max<size_t>(c.max_line, 8)) {
  expect(Await::kGreeting);
}

void ClientSession::Impl::write_hello() {
  append_pieces(&out, {config.lmtp ? "LHLO " : "EHLO ", config.helo_name, "\r\n"});
  expect(Await::kEhlo);
}

void ClientSession::Impl::resolve_unresolved(const Reply& reply) {
  for (RecipientResult& r : result.recipients) {
    if (r.reply.code == 0) {
      r.reply = reply;
    }
  }
}

void ClientSession::Impl::finish_transaction() {
  resolve_unresolved(make_local_reply(451, "4.5.0", "internal error: no reply recorded"));
  in_transaction = false;
  result_ready = true;
}

void ClientSession::Impl::close_with(const Reply& reply, bool is_failure) {
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

void ClientSession::Impl::fail_politely(const Reply& reply) {
  out.append("QUIT\r\n");
  close_with(reply, true);
}

void ClientSession::Impl::after_rcpt_reply() {
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

void ClientSession::Impl::accepted_get(const Reply& reply) {
  for (size_t i = 0; i < accepted.size(); ++i) {
    if (accepted[i] && result.recipients[i].reply.code == 0) {
      result.recipients[i].reply = reply;
    }
  }
}

void ClientSession::Impl::on_reply(Reply& reply) {
  Expected e = expected[head++];
  if (reply.code == 421 && e.what != Await::kQuit) {
    close_with(reply, true);  // the server is going away (RFC 5321 3.8)
    return;
  }
  switch (e.what) {
    case Await::kGreeting:
      if (reply.code == 220) {
        write_hello();
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
      } else if (reply.code >= 500 && !config.lmtp) {
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
          result.recipients[e.recipient].rcpt_refused = !reply.local;
        }
        after_rcpt_reply();
      }
      break;
    case Await::kData:
      if (reply.code == 354 && accepted_count > 0) {
        write_content(true);
        out.append(".\r\n");
        if (config.lmtp) {
          // RFC 2033 4.2: one reply per accepted recipient, in RCPT order.
          for (uint32_t i = 0; i < accepted.size(); ++i) {
            if (accepted[i]) expect(Await::kRcptDot, i);
          }
        } else {
          expect(Await::kDot);
        }
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
    case Await::kRcptDot:
      result.recipients[e.recipient].reply = reply;
      if (result.data_reply.code == 0 || (positive(result.data_reply) && !positive(reply))) {
        result.data_reply = reply;  // the first refusal, else the first success
      }
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

void ClientSession::Impl::on_unsolicited(const Reply& reply) {
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

void ClientSession::Impl::end_abruptly(std::string_view what) {
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
  s.write_hello();
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
