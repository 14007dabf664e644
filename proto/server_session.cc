// proto/server_session.cc — ServerSession's byte handling: command line
// framing, DATA and BDAT bodies, the end of a message, and the public API.
// The per-verb handlers live in session_commands.cc.
#include "proto/server_session.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "proto/header_scan.h"
#include "proto/reply.h"
#include "proto/sasl.h"
#include "proto/session_impl.h"

namespace ringmta::proto {
namespace {

// Without SIZE= the body grows by doubling from here.
constexpr size_t kDefaultBodyReserve = 16 * 1024;

// trace_protocol is Received:'s "with" keyword: RFC 3848 adds S for TLS and
// A for AUTH to ESMTP, RFC 6531 likewise to UTF8SMTP; plain SMTP (HELO)
// has no such variants.
std::string_view trace_protocol(bool utf8, bool ehlo, bool tls, bool auth) {
  static constexpr std::string_view kNames[2][4] = {
      {"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"},
      {"UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA"},
  };
  if (!utf8 && !ehlo) {
    return "SMTP";
  }
  return kNames[utf8 ? 1 : 0][(tls ? 2 : 0) + (auth ? 1 : 0)];
}

}  // namespace

ServerSession::Impl::Impl(const SessionConfig& config, ClientInfo client)
    : _config(config),
      _client(std::move(client)),
      _decoder(BodyDecoder::Mode::kData, config.limits.max_message_size,
               config.limits.max_text_line),
      _tls(_client.tls) {}

void ServerSession::Impl::reply(std::string_view line) { append_reply(&_out, line); }

void ServerSession::Impl::reply_host(std::string_view code, std::string_view text) {
  append_pieces(&_out, {code, " ", _config.hostname, " ", text, "\r\n"});
}

void ServerSession::Impl::close_with(std::string_view code, std::string_view text) {
  if (_closing) {
    return;
  }
  reply_host(code, text);
  _closing = true;
}

void ServerSession::Impl::error(std::string_view line) {
  reply(line);
  ++_errors;
  if (_errors >= _config.limits.max_errors) {
    close_with("421 4.7.0", "Error: too many errors");
  }
}

void ServerSession::Impl::reset_transaction() {
  _has_mail = false;
  _message_started = false;
  _bdat = false;
  _queue_id.clear();
  _rcpt_hashes.clear();
  _msg = CompletedMessage{};
  _phase = Phase::kCommand;
}

void ServerSession::Impl::start_message(BodyDecoder::Mode mode) {
  _message_started = true;
  _bdat = mode == BodyDecoder::Mode::kBdat;
  _queue_id = _config.new_queue_id ? _config.new_queue_id() : std::string();
  _msg.arrival = _config.clock ? _config.clock() : absl::Now();
  _decoder.reset(mode);
  // Reserve what SIZE= announced (bounded by the limit, plus room for bare
  // LFs becoming CRLF) so that the body is written once, not regrown.
  const uint64_t limit = _config.limits.max_message_size;
  uint64_t hint = _msg.envelope.declared_size;
  uint64_t want = hint != 0 ? std::min(hint + hint / 64 + 1024, limit) : kDefaultBodyReserve;
  _msg.body.reserve(static_cast<size_t>(std::min<uint64_t>(want, limit)));
}

size_t ServerSession::Impl::consume(std::string_view in) {
  if (_wants_tls && !_closing) {
    // Plaintext the client pipelined after STARTTLS: never executed, and
    // reported used so that no caller can offer it again after the
    // handshake (CVE-2011-0411).
    return in.size();
  }
  size_t pos = 0;
  while (pos < in.size() && !_closing && !_waiting && !_auth_waiting && !_wants_tls) {
    std::string_view rest = in.substr(pos);
    switch (_phase) {
      case Phase::kCommand:
        pos += consume_command_bytes(rest);
        break;
      case Phase::kData:
        pos += _decoder.consume(rest, &_msg.body);
        if (_decoder.done()) {
          finish_message();
        }
        break;
      case Phase::kBdatChunk:
        pos += consume_chunk_bytes(rest);
        break;
    }
  }
  return pos;
}

size_t ServerSession::Impl::line_limit() const {
  const size_t max_line = _config.limits.max_command_line;
  if (_auth_step != AuthStep::kNone || auth_offered()) {
    return std::max(max_line, kMaxSaslLine);
  }
  return max_line;
}

void ServerSession::Impl::line_too_long() {
  // A SASL response that did not fit ends the exchange: the client's next
  // line is a command again, not more of its credentials.
  _auth_step = AuthStep::kNone;
  _login_user.clear();
  error("500 5.5.6 Line too long");
}

// consume_command_bytes frames one command line. A complete line is parsed
// in place (no copy); only a line split across reads is buffered, and never
// beyond line_limit(): past that it is refused and skipped to its end.
size_t ServerSession::Impl::consume_command_bytes(std::string_view in) {
  const size_t max_line = line_limit();
  const auto* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
  if (_discarding) {
    if (nl == nullptr) {
      return in.size();
    }
    _discarding = false;
    return static_cast<size_t>(nl - in.data()) + 1;
  }
  if (nl == nullptr) {
    if (_line.size() + in.size() > max_line) {
      // Even if a CR is the last octet, the content is already too long.
      _line.clear();
      _discarding = true;
      line_too_long();
      return in.size();
    }
    // Reserve for a command line; only an AUTH line grows past it.
    const size_t usual = std::min(max_line, _config.limits.max_command_line);
    if (_line.capacity() < usual) {
      _line.reserve(usual);
    }
    _line.append(in);
    return in.size();
  }
  const size_t used = static_cast<size_t>(nl - in.data()) + 1;
  std::string_view line;
  if (_line.empty()) {
    line = in.substr(0, used - 1);
  } else {
    _line.append(in.data(), used - 1);
    line = _line;
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  // max_command_line counts the CRLF (RFC 5321 4.5.3.1.4). Only AUTH and
  // a SASL response may use the longer limit.
  if (line.size() + 2 > max_line ||
      (line.size() + 2 > _config.limits.max_command_line && _auth_step == AuthStep::kNone &&
       parse_command(line).verb != Verb::kAuth)) {
    line_too_long();
  } else {
    execute(line);
  }
  _line.clear();
  return used;
}

size_t ServerSession::Impl::consume_chunk_bytes(std::string_view in) {
  size_t take = static_cast<size_t>(std::min<uint64_t>(_chunk_left, in.size()));
  if (_chunk_error.empty()) {
    _decoder.consume(in.substr(0, take), &_msg.body);
  }
  _chunk_left -= take;
  if (_chunk_left == 0) {
    finish_chunk();
  }
  return take;
}

void ServerSession::Impl::finish_chunk() {
  _phase = Phase::kCommand;
  if (!_chunk_error.empty()) {
    std::string_view text = _chunk_error;
    _chunk_error = {};
    error(text);
    return;
  }
  if (_chunk_last) {
    _decoder.finish(&_msg.body);
    finish_message();
    return;
  }
  if (_decoder.too_big()) {
    // RFC 3030 2: the client must stop sending chunks after an error; those
    // it pipelined anyway get the same answer until LAST or RSET.
    reply("552 5.3.4 Message size exceeds fixed maximum message size");
    return;
  }
  _out.append("250 2.0.0 Ok: ");
  append_decimal(&_out, _chunk_size);
  _out.append(" octets received\r\n");
}

void ServerSession::Impl::finish_message() {
  _phase = Phase::kCommand;
  if (_decoder.too_big()) {
    reply("552 5.3.4 Message size exceeds fixed maximum message size");
    reset_transaction();
    return;
  }
  HeaderScan scan = scan_headers(_msg.body);
  if (scan.received > kMaxHops) {
    reply("554 5.4.6 Too many hops");
    reset_transaction();
    return;
  }
  if (_config.require_list_unsubscribe && !only_feedback_recipients()) {
    if (!scan.has_list_unsubscribe) {
      reply("550 5.7.1 Message refused: no List-Unsubscribe header (this server requires RFC 8058 one-click "
            "unsubscribe on bulk mail)");
      reset_transaction();
      return;
    }
    if (!absl::EqualsIgnoreCase(scan.list_unsubscribe_post, "List-Unsubscribe=One-Click")) {
      reply("550 5.7.1 Message refused: no List-Unsubscribe-Post: List-Unsubscribe=One-Click header "
            "(RFC 8058 one-click unsubscribe)");
      reset_transaction();
      return;
    }
  }
  // Control headers are ringmta's, not the recipient's (header_scan.h).
  strip_ranges(scan.control, &_msg.body);
  _msg.envelope.pool = std::move(scan.pool);
  _msg.envelope.tenant = std::move(scan.tenant);
  _msg.envelope.campaign = std::move(scan.campaign);
  const Envelope& env = _msg.envelope;
  TraceInfo info;
  info.helo = _helo;
  info.client_addr = _client.addr;
  info.hostname = _config.hostname;
  info.protocol = trace_protocol(env.smtputf8, _greeting == Greeting::kEhlo, _tls,
                                 !_auth_user.empty());
  info.tls_version = _tls_version;
  info.tls_cipher = _tls_cipher;
  info.auth_user = _auth_user;
  info.queue_id = _queue_id;
  if (env.recipients.size() == 1) {
    info.recipient = env.recipients.front();
  }
  info.now = _msg.arrival;
  append_trace_headers(info, scan, &_msg.trace_headers);
  _msg.queue_id = _queue_id;
  _msg.has_long_lines = _decoder.has_long_lines();
  _message_started = false;
  _ready = true;
  _waiting = true;
}

// ---- public API ----

ServerSession::ServerSession(const SessionConfig& config, ClientInfo client)
    : _impl(std::make_unique<Impl>(config, std::move(client))) {}

ServerSession::~ServerSession() = default;

void ServerSession::start() {
  append_pieces(&_impl->_out, {"220 ", _impl->_config.hostname, " ESMTP ringmta\r\n"});
}

size_t ServerSession::consume(std::string_view in) { return _impl->consume(in); }

std::string& ServerSession::output() { return _impl->_out; }

bool ServerSession::waiting() const { return _impl->_waiting || _impl->_auth_waiting; }

bool ServerSession::message_ready() const { return _impl->_ready; }

CompletedMessage ServerSession::take_message() {
  if (!_impl->_ready) {
    return {};
  }
  _impl->_ready = false;
  return std::move(_impl->_msg);
}

void ServerSession::on_stored() {
  Impl& s = *_impl;
  if (!s._waiting) {
    return;
  }
  if (!s._closing) {  // after a 421 nothing more may be said
    append_pieces(&s._out, {"250 2.0.0 Ok: queued as ", s._queue_id, "\r\n"});
  }
  s._waiting = false;
  s._ready = false;
  s._junk = 0;
  s.reset_transaction();
}

void ServerSession::on_store_failed() {
  Impl& s = *_impl;
  if (!s._waiting) {
    return;
  }
  if (!s._closing) {
    s.reply("451 4.3.0 Error: queue file write error, try again later");
  }
  s._waiting = false;
  s._ready = false;
  s.reset_transaction();
}

bool ServerSession::closing() const { return _impl->_closing; }

bool ServerSession::in_message() const {
  return _impl->_message_started && !_impl->_closing;
}

void ServerSession::on_timeout() { _impl->close_with("421 4.4.2", "Error: timeout exceeded"); }

void ServerSession::on_shutdown() { _impl->close_with("421 4.3.2", "Service shutting down"); }

void ServerSession::on_session_expired() {
  _impl->close_with("421 4.4.2", "Error: session time limit exceeded");
}

uint64_t ServerSession::commands() const { return _impl->_commands; }

uint64_t ServerSession::message_bytes() const {
  return _impl->_message_started ? _impl->_msg.body.size() : 0;
}

bool ServerSession::Impl::only_feedback_recipients() const {
  if (_config.feedback_domains.empty()) {
    return false;
  }
  for (const std::string& r : _msg.envelope.recipients) {
    const size_t at = r.rfind('@');
    if (at == std::string::npos || !_config.feedback_domains.contains(absl::string_view(r).substr(at + 1))) {
      return false;
    }
  }
  return true;
}

}  // namespace ringmta::proto
