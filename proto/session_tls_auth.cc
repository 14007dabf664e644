// proto/session_tls_auth.cc — ServerSession's STARTTLS (RFC 3207) and AUTH
// (RFC 4954) commands, the SASL exchange, and their public API. The
// engine does the cryptography and checks the credentials; this file only
// decides what is said and when the session waits.
#include "proto/reply.h"
#include "proto/sasl.h"
#include "proto/session_impl.h"

namespace ringmta::proto {
namespace {

constexpr std::string_view kInTransaction = "503 5.5.1 Error: MAIL transaction in progress";
constexpr std::string_view kNotImplemented = "502 5.5.1 Error: command not implemented";
constexpr std::string_view kBadBase64 = "501 5.5.2 Error: invalid base64 in response";
constexpr std::string_view kMalformed = "501 5.5.2 Error: malformed authentication response";
constexpr std::string_view kInvalid = "535 5.7.8 Authentication credentials invalid";
// "Username:" and "Password:" in base64, as every LOGIN client expects.
constexpr std::string_view kAskUser = "334 VXNlcm5hbWU6";
constexpr std::string_view kAskPassword = "334 UGFzc3dvcmQ6";
// The TLS strings are the engine's, but still bounded here.
constexpr size_t kMaxTlsName = 64;

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ServerSession::Impl::auth_offered() const {
  return _config.auth_available && _auth_user.empty() && (_tls || !_config.auth_requires_tls);
}

void ServerSession::Impl::do_starttls(const Command& c) {
  if (_tls) {
    error("503 5.5.1 Error: TLS already active");
    return;
  }
  if (!_config.starttls_available) {
    error(kNotImplemented);  // not advertised: as before STARTTLS existed
    return;
  }
  if (!c.arg.empty()) {
    error("501 5.5.4 Syntax: STARTTLS");
    return;
  }
  // RFC 3207 4.2 makes TLS forget the transaction; refusing is kinder than
  // silently dropping the client's MAIL and RCPTs.
  if (_has_mail) {
    error(kInTransaction);
    return;
  }
  reply("220 2.0.0 Ready to start TLS");
  _wants_tls = true;  // consume() stops here and drops what follows
}

void ServerSession::Impl::reset_after_tls() {
  // RFC 3207 4.2: discard all knowledge obtained from the client before
  // TLS, as if the connection had just been greeted. The error count stays:
  // STARTTLS must not refill a misbehaving client's budget.
  reset_transaction();
  _greeting = Greeting::kNone;
  _helo.clear();
  _line.clear();
  _discarding = false;
  _auth_step = AuthStep::kNone;
  _login_user.clear();
  _auth_user.clear();
  _wants_tls = false;
  _tls = true;
}

void ServerSession::Impl::do_auth(const Command& c) {
  if (!_config.auth_available) {
    error(kNotImplemented);  // not advertised: as before AUTH existed
    return;
  }
  if (_greeting == Greeting::kNone) {
    error("503 5.5.1 Error: send HELO/EHLO first");
    return;
  }
  if (!_auth_user.empty()) {
    error("503 5.5.1 Error: already authenticated");  // RFC 4954 4
    return;
  }
  if (_has_mail) {
    error(kInTransaction);  // RFC 4954 4: not during a mail transaction
    return;
  }
  if (!_tls && _config.auth_requires_tls) {
    error("538 5.7.11 Encryption required for requested authentication mechanism");
    return;
  }
  std::string_view arg = c.arg;
  const size_t space = arg.find(' ');
  std::string_view mechanism = arg.substr(0, space);
  std::string_view initial;
  const bool has_initial = space != std::string_view::npos;
  if (has_initial) {
    initial = arg.substr(space + 1);
    if (initial.empty() || initial.find(' ') != std::string_view::npos) {
      error("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
      return;
    }
  }
  if (mechanism.empty()) {
    error("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
    return;
  }
  // RFC 4954 4: "=" is an initial response of zero length.
  if (initial == "=") {
    initial = {};
  }
  if (iequals(mechanism, "PLAIN")) {
    if (!has_initial) {
      _auth_step = AuthStep::kPlain;
      reply("334 ");  // an empty challenge: send the credentials
      return;
    }
    _auth_step = AuthStep::kPlain;
    auth_response(initial);
    return;
  }
  if (iequals(mechanism, "LOGIN")) {
    if (!has_initial) {
      _auth_step = AuthStep::kLoginUser;
      reply(kAskUser);
      return;
    }
    // Some clients send the user name as LOGIN's initial response.
    _auth_step = AuthStep::kLoginUser;
    auth_response(initial);
    return;
  }
  error("504 5.5.4 Unrecognized authentication mechanism");
}

// auth_response handles one client line of an exchange (or the initial
// response). "*" cancels at any step (RFC 4954 4).
void ServerSession::Impl::auth_response(std::string_view line) {
  const AuthStep step = _auth_step;
  _auth_step = AuthStep::kNone;  // every path below ends or restarts it
  if (line == "*") {
    _login_user.clear();
    error("501 5.0.0 Authentication aborted");
    return;
  }
  SaslStatus status = SaslStatus::kMalformed;
  switch (step) {
    case AuthStep::kNone:
      return;
    case AuthStep::kPlain: {
      SaslCredentials credentials;
      status = decode_plain(line, &credentials);
      if (status == SaslStatus::kOk) {
        request_auth("PLAIN", std::move(credentials.user), std::move(credentials.password));
        return;
      }
      break;
    }
    case AuthStep::kLoginUser:
      status = decode_login_user(line, &_login_user);
      if (status == SaslStatus::kOk) {
        _auth_step = AuthStep::kLoginPassword;
        reply(kAskPassword);
        return;
      }
      break;
    case AuthStep::kLoginPassword: {
      std::string password;
      status = decode_login_password(line, &password);
      if (status == SaslStatus::kOk) {
        request_auth("LOGIN", std::move(_login_user), std::move(password));
        _login_user.clear();
        return;
      }
      break;
    }
  }
  _login_user.clear();
  switch (status) {
    case SaslStatus::kOk:
      break;
    case SaslStatus::kBadBase64:
      error(kBadBase64);
      break;
    case SaslStatus::kMalformed:
      error(kMalformed);
      break;
    case SaslStatus::kAuthzMismatch:
      error(kInvalid);  // the same answer as wrong credentials: no hints
      break;
  }
}

void ServerSession::Impl::request_auth(std::string_view mechanism, std::string user,
                                       std::string password) {
  _auth_candidate = user;
  _auth_request.mechanism.assign(mechanism);
  _auth_request.user = std::move(user);
  _auth_request.password = std::move(password);
  _auth_ready = true;
  _auth_waiting = true;  // consume() stops until on_auth_result()
}

// ---- public API ----

bool ServerSession::wants_tls() const { return _impl->_wants_tls; }

void ServerSession::on_tls_established(std::string_view version, std::string_view cipher) {
  Impl& s = *_impl;
  if (s._wants_tls) {
    s.reset_after_tls();
  } else if (!s._tls) {
    return;  // a plaintext session becomes encrypted only through STARTTLS
  }
  s._tls_version.assign(version.substr(0, kMaxTlsName));
  s._tls_cipher.assign(cipher.substr(0, kMaxTlsName));
}

bool ServerSession::tls_active() const { return _impl->_tls; }

bool ServerSession::auth_pending() const { return _impl->_auth_ready; }

AuthRequest ServerSession::take_auth_request() {
  Impl& s = *_impl;
  if (!s._auth_ready) {
    return {};
  }
  s._auth_ready = false;
  AuthRequest request = std::move(s._auth_request);
  s._auth_request = AuthRequest{};
  return request;
}

void ServerSession::on_auth_result(bool ok) {
  Impl& s = *_impl;
  if (!s._auth_waiting) {
    return;
  }
  s._auth_waiting = false;
  s._auth_ready = false;
  s._auth_request = AuthRequest{};  // the password, if never taken
  std::string user = std::move(s._auth_candidate);
  s._auth_candidate.clear();
  if (s._closing) {
    return;  // after a 421 nothing more may be said
  }
  if (ok) {
    s._auth_user = std::move(user);
    s.reply("235 2.7.0 Authentication successful");
  } else {
    s.error(kInvalid);
  }
}

void ServerSession::on_auth_unavailable() {
  Impl& s = *_impl;
  if (!s._auth_waiting) {
    return;
  }
  s._auth_waiting = false;
  s._auth_ready = false;
  s._auth_request = AuthRequest{};
  s._auth_candidate.clear();
  if (!s._closing) {
    s.reply("454 4.7.0 Temporary authentication failure, try again later");
  }
}

void ServerSession::on_auth_blocked() {
  Impl& s = *_impl;
  s._auth_waiting = false;
  s._auth_ready = false;
  s._auth_request = AuthRequest{};
  s._auth_candidate.clear();
  s.close_with("421 4.7.0", "Error: too many failed authentications, try again later");
}

bool ServerSession::authenticated() const { return !_impl->_auth_user.empty(); }

const std::string& ServerSession::auth_user() const { return _impl->_auth_user; }

}  // namespace ringmta::proto
