// proto/session_commands.cc — ServerSession's handler for each verb: the
// RFC 5321 4.1.4 command sequence and the replies of every command.
#include <functional>

#include "absl/strings/ascii.h"
#include "proto/reply.h"
#include "proto/session_impl.h"

namespace ringmta::proto {
namespace {

constexpr std::string_view kNeedHelo = "503 5.5.1 Error: send HELO/EHLO first";
constexpr std::string_view kNeedMail = "503 5.5.1 Error: need MAIL command";
constexpr std::string_view kNeedRcpt = "503 5.5.1 Error: need RCPT command";
constexpr std::string_view kTooBig = "552 5.3.4 Message size exceeds fixed maximum message size";
constexpr std::string_view kNeedsUtf8 = "553 5.6.7 Non-ASCII address requires SMTPUTF8";
constexpr std::string_view kNotImplemented = "502 5.5.1 Error: command not implemented";

bool has_controls(std::string_view text) {
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u == 127) {
      return true;
    }
  }
  return false;
}

}  // namespace

void ServerSession::Impl::execute(std::string_view line) {
  ++_commands;
  if (_auth_step != AuthStep::kNone) {
    auth_response(line);  // credentials, not a command
    return;
  }
  const Command c = parse_command(line);
  if (c.verb != Verb::kMail && c.verb != Verb::kRcpt && c.verb != Verb::kData &&
      c.verb != Verb::kBdat && c.verb != Verb::kQuit && _config.limits.max_junk_commands != 0 &&
      ++_junk > _config.limits.max_junk_commands) {
    close_with("421 4.7.0", "Error: too many commands without a message");
    return;
  }
  switch (c.verb) {
    case Verb::kEhlo:
      do_helo(c, Greeting::kEhlo);
      break;
    case Verb::kHelo:
      do_helo(c, Greeting::kHelo);
      break;
    case Verb::kMail:
      do_mail(c);
      break;
    case Verb::kRcpt:
      do_rcpt(c);
      break;
    case Verb::kData:
      do_data(c);
      break;
    case Verb::kBdat:
      do_bdat(c);
      break;
    case Verb::kRset:
      if (!c.arg.empty()) {
        error("501 5.5.4 Syntax: RSET");
        break;
      }
      reset_transaction();
      reply("250 2.0.0 Ok");
      break;
    case Verb::kNoop:
      reply("250 2.0.0 Ok");  // RFC 5321 4.1.1.9: an argument is ignored
      break;
    case Verb::kQuit:
      reply("221 2.0.0 Bye");
      _closing = true;
      break;
    case Verb::kVrfy:
      if (c.arg.empty()) {
        error("501 5.5.4 Syntax: VRFY address");
        break;
      }
      // RFC 5321 3.5.3: 252 neither confirms nor denies (no harvesting).
      reply("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
      break;
    case Verb::kHelp:
      reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
      break;
    case Verb::kStartTls:
      do_starttls(c);
      break;
    case Verb::kAuth:
      do_auth(c);
      break;
    case Verb::kExpn:
      error(kNotImplemented);
      break;
    case Verb::kUnknown:
      error("500 5.5.2 Error: command not recognized");
      break;
  }
}

// refuse_args answers MAIL or RCPT arguments that did not parse; false
// when they did.
bool ServerSession::Impl::refuse_args(ArgStatus status, std::string_view syntax,
                                      std::string_view bad_address, std::string_view bad_param) {
  switch (status) {
    case ArgStatus::kOk:
      return false;
    case ArgStatus::kSyntax:
      error(syntax);
      break;
    case ArgStatus::kBadAddress:
      error(bad_address);
      break;
    case ArgStatus::kNeedsSmtpUtf8:
      error(kNeedsUtf8);
      break;
    case ArgStatus::kUnknownParam:
    case ArgStatus::kBadParamValue:
      reply_bad_param(status, bad_param);
      break;
  }
  return true;
}

void ServerSession::Impl::reply_bad_param(ArgStatus status, std::string_view param) {
  std::string line(status == ArgStatus::kUnknownParam ? "555 5.5.4 Unsupported option"
                                                      : "501 5.5.4 Bad parameter");
  std::string_view shown = printable_or_empty(param);
  if (!shown.empty()) {
    line.append(": ");
    line.append(shown);
  }
  error(line);
}

void ServerSession::Impl::do_helo(const Command& c, Greeting kind) {
  if (c.arg.empty() || has_controls(c.arg)) {
    // The argument goes into our Received: header, so keep it clean.
    error(kind == Greeting::kEhlo ? "501 5.5.4 Syntax: EHLO hostname"
                                  : "501 5.5.4 Syntax: HELO hostname");
    return;
  }
  // RFC 5321 4.1.4: EHLO/HELO in a session resets any transaction.
  reset_transaction();
  _greeting = kind;
  _helo.assign(c.arg);
  if (kind == Greeting::kEhlo) {
    append_ehlo();
  } else {
    append_pieces(&_out, {"250 ", _config.hostname, "\r\n"});
  }
}

// append_ehlo appends the EHLO reply with the extensions this connection
// may use now: STARTTLS before TLS, AUTH where the password is safe to send.
void ServerSession::Impl::append_ehlo() {
  const size_t start = _out.size();
  append_ehlo_reply(&_out, _config.hostname, _config.limits.max_message_size);
  const bool starttls = _config.starttls_available && !_tls;
  const bool auth = auth_offered();
  if (!starttls && !auth) {
    return;
  }
  // Only the last line of a multi-line reply reads "250 " (RFC 5321
  // 4.2.1): the per-connection extensions go before it.
  const size_t last = _out.rfind("\r\n250 ");
  if (last == std::string::npos || last < start) {
    return;
  }
  std::string extra;
  if (starttls) {
    extra.append("\r\n250-STARTTLS");
  }
  if (auth) {
    extra.append("\r\n250-AUTH PLAIN LOGIN");
  }
  _out.insert(last, extra);
}

void ServerSession::Impl::do_mail(const Command& c) {
  if (_greeting == Greeting::kNone) {
    error(kNeedHelo);
    return;
  }
  if (_has_mail) {
    error("503 5.5.1 Error: nested MAIL command");
    return;
  }
  if (_config.auth_required && _auth_user.empty() && !_client.may_relay) {
    error("530 5.7.0 Authentication required");
    return;
  }
  MailArgs args;
  ArgStatus status = parse_mail_args(c.arg, &args, _config.auth_available);
  if (refuse_args(status, "501 5.5.4 Syntax: MAIL FROM:<address>",
                  "501 5.1.7 Bad sender address syntax", args.bad_param)) {
    return;
  }
  if (args.size > _config.limits.max_message_size) {
    reply(kTooBig);  // RFC 1870 6.1; a policy answer, not a client error
    return;
  }
  _has_mail = true;
  Envelope& env = _msg.envelope;
  env.sender = address_text(args.sender);
  env.body = args.body;
  env.smtputf8 = args.smtputf8;
  env.declared_size = args.size;
  env.helo = _helo;
  env.client_addr = _client.addr;
  env.auth_user = _auth_user;
  reply("250 2.1.0 Ok");
}

std::string_view ServerSession::Impl::sequence_error(Verb verb) const {
  if (_greeting == Greeting::kNone) {
    return kNeedHelo;
  }
  if (!_has_mail) {
    return kNeedMail;
  }
  if (verb != Verb::kRcpt && _msg.envelope.recipients.empty()) {
    return kNeedRcpt;
  }
  // RFC 3030 2: DATA and BDAT do not mix; nor do new recipients follow data.
  if (_bdat && verb != Verb::kBdat) {
    return verb == Verb::kData ? "503 5.5.1 Error: DATA after BDAT"
                               : "503 5.5.1 Error: RCPT after BDAT";
  }
  return {};
}

void ServerSession::Impl::do_rcpt(const Command& c) {
  if (std::string_view seq = sequence_error(Verb::kRcpt); !seq.empty()) {
    error(seq);
    return;
  }
  RcptArgs args;
  const bool long_ok = !_config.feedback_domains.empty();
  ArgStatus status = parse_rcpt_args(c.arg, _msg.envelope.smtputf8, &args, long_ok);
  if (status == ArgStatus::kOk && long_ok && args.recipient.local.size() > kMaxLocalPart &&
      !_config.feedback_domains.contains(
          absl::AsciiStrToLower(absl::string_view(args.recipient.domain.data(), args.recipient.domain.size())))) {
    status = ArgStatus::kBadAddress;  // past 64 octets only for the feedback domains
  }
  if (refuse_args(status, "501 5.5.4 Syntax: RCPT TO:<address>",
                  "501 5.1.3 Bad recipient address syntax", args.bad_param)) {
    return;
  }
  std::string text = address_text(args.recipient);
  if (args.recipient.is_postmaster) {
    if (_config.postmaster.empty()) {
      reply("550 5.1.1 <postmaster>: no postmaster mailbox is configured here (server.postmaster)");
      return;
    }
    text = _config.postmaster;  // delivered there like any recipient of a local domain
  }
  // An authenticated client relays like one in the relay networks.
  if (!args.recipient.is_postmaster && !_client.may_relay && _auth_user.empty()) {
    // address_text lower-cased the domain: it is the tail of `text`.
    std::string_view domain =
        std::string_view(text).substr(text.size() - args.recipient.domain.size());
    const absl::string_view d(domain.data(), domain.size());
    if (!_config.local_domains.contains(d) && !_config.feedback_domains.contains(d)) {
      std::string line;
      append_pieces(&line, {"554 5.7.1 <", text, ">: Relay access denied"});
      error(line);
      return;
    }
  }
  if (_config.rcpt_refusal) {
    if (std::string refusal = _config.rcpt_refusal(text); !refusal.empty()) {
      reply(refusal);
      return;
    }
  }
  std::vector<std::string>& rcpts = _msg.envelope.recipients;
  const size_t hash = std::hash<std::string>{}(text);
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (_rcpt_hashes[i] == hash && rcpts[i] == text) {
      reply("250 2.1.5 Ok");  // a duplicate is accepted and stored once
      return;
    }
  }
  if (rcpts.size() >= _config.limits.max_recipients) {
    // RFC 5321 4.5.3.1.10: a 452 the client is expected to handle by
    // sending the rest later; it is not a client error.
    reply("452 4.5.3 Too many recipients");
    return;
  }
  rcpts.push_back(std::move(text));
  _rcpt_hashes.push_back(hash);
  reply("250 2.1.5 Ok");
}

void ServerSession::Impl::do_data(const Command& c) {
  if (!c.arg.empty()) {
    error("501 5.5.4 Syntax: DATA");
    return;
  }
  if (std::string_view seq = sequence_error(Verb::kData); !seq.empty()) {
    error(seq);
    return;
  }
  start_message(BodyDecoder::Mode::kData);
  _phase = Phase::kData;
  reply("354 End data with <CR><LF>.<CR><LF>");
}

void ServerSession::Impl::do_bdat(const Command& c) {
  BdatArgs args;
  if (!parse_bdat_args(c.arg, &args)) {
    // The chunk's length is unknown, so the rest of the stream cannot be
    // told apart from commands: answer, then close (as Postfix does).
    reply("501 5.5.4 Syntax: BDAT chunk-size [LAST]");
    close_with("421 4.5.0", "Error: BDAT framing lost, closing connection");
    return;
  }
  _chunk_size = args.size;
  _chunk_left = args.size;
  _chunk_last = args.last;
  _chunk_error = sequence_error(Verb::kBdat);
  if (_chunk_error.empty() && !_message_started) {
    start_message(BodyDecoder::Mode::kBdat);
  }
  // Whatever the answer, exactly `size` octets of chunk data follow.
  _phase = Phase::kBdatChunk;
  if (_chunk_left == 0) {
    finish_chunk();
  }
}

}  // namespace ringmta::proto
