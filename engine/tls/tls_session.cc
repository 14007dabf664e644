// engine/tls/tls_session.cc — TLS over memory buffers: wolfSSL's I/O callbacks
// read from _in and append to _out, so wolfSSL never touches a socket.
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

#include "engine/tls/tls_session.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

namespace {

// A TLS record carries at most 16 KiB of plaintext; per record it adds a
// header, a tag and (1.3) a type byte or (1.2 GCM) an explicit nonce.
constexpr size_t kMaxRecordPlain = 16384;
constexpr size_t kRecordOverhead = 64;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool would_block(int err) {
  return err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE;
}

}  // namespace

TlsSession::TlsSession(TlsContext& ctx, std::string_view sni_host)
    : _ctx(ctx.native()),
      _max_in(ctx.options().max_pending_in),
      _max_out(ctx.options().max_pending_out) {
  _ssl = wolfSSL_new(_ctx.get());
  if (_ssl == nullptr) {
    (void)fail("tls: wolfSSL_new failed (out of memory?)");
    return;
  }
  wolfSSL_SSLSetIORecv(_ssl, &TlsSession::on_recv);
  wolfSSL_SSLSetIOSend(_ssl, &TlsSession::on_send);
  wolfSSL_SetIOReadCtx(_ssl, this);
  wolfSSL_SetIOWriteCtx(_ssl, this);
  if (ctx.role() != TlsRole::client || sni_host.empty()) {
    return;
  }
  std::string host(sni_host);
  // RFC 6066 §3: SNI carries DNS names only, never address literals.
  if (!is_ip_literal(host)) {
    int rc = wolfSSL_UseSNI(_ssl, WOLFSSL_SNI_HOST_NAME, host.data(),
                            static_cast<unsigned short>(host.size()));
    if (rc != WOLFSSL_SUCCESS) {
      (void)fail(absl::StrCat("tls: cannot set SNI \"", host, "\": ", tls_error_text(rc)));
      return;
    }
  }
  if (ctx.options().verify_peer) {
    if (wolfSSL_check_domain_name(_ssl, host.c_str()) != WOLFSSL_SUCCESS) {
      (void)fail(absl::StrCat("tls: cannot check the server name \"", host, "\""));
    }
  }
}

TlsSession::~TlsSession() {
  if (_ssl != nullptr) {
    wolfSSL_free(_ssl);
  }
}

int TlsSession::on_recv(WOLFSSL*, char* buf, int size, void* self) {
  auto* s = static_cast<TlsSession*>(self);
  size_t avail = s->_in.size() - s->_in_pos;
  if (avail == 0) {
    return WOLFSSL_CBIO_ERR_WANT_READ;
  }
  size_t n = std::min(avail, static_cast<size_t>(size));
  std::memcpy(buf, s->_in.data() + s->_in_pos, n);
  s->_in_pos += n;
  if (s->_in_pos == s->_in.size()) {
    s->_in.clear();
    s->_in_pos = 0;
  }
  return static_cast<int>(n);
}

int TlsSession::on_send(WOLFSSL*, char* buf, int size, void* self) {
  auto* s = static_cast<TlsSession*>(self);
  // write() checks the bound before encrypting; this catches output the peer
  // provokes (alerts, key updates) while the engine is not sending.
  if (s->_out.size() + static_cast<size_t>(size) > s->_max_out + kRecordOverhead) {
    s->_out_overflow = true;
    return WOLFSSL_CBIO_ERR_GENERAL;
  }
  s->_out.append(buf, static_cast<size_t>(size));
  return size;
}

absl::Status TlsSession::fail(std::string message) {
  if (!_failed) {
    _failed = true;
    _error = std::move(message);
  }
  return absl::UnavailableError(_error);
}

absl::Status TlsSession::fail_wolfssl(const char* what, int err) {
  std::string msg = absl::StrCat("tls ", what, ": ");
  if (_out_overflow) {
    absl::StrAppend(&msg, "more than ", _max_out, " bytes of ciphertext waiting to be sent");
  } else {
    absl::StrAppend(&msg, tls_error_text(err));
    WOLFSSL_ALERT_HISTORY h;
    // The peer's alert says why it gave up (bad certificate, no shared
    // cipher), which wolfSSL's own code for a received alert does not.
    if (wolfSSL_get_alert_history(_ssl, &h) == WOLFSSL_SUCCESS && h.last_rx.code > 0 &&
        h.last_rx.level == alert_fatal) {
      absl::StrAppend(&msg, "; peer sent alert \"",
                      wolfSSL_alert_desc_string_long(h.last_rx.code), "\"");
    }
  }
  // The per-thread error queue would otherwise grow with every failure.
  wolfSSL_ERR_clear_error();
  return fail(std::move(msg));
}

absl::Status TlsSession::feed(std::string_view ciphertext) {
  if (_failed) {
    return absl::FailedPreconditionError(_error);
  }
  if (pending_in() + ciphertext.size() > _max_in) {
    return fail(absl::StrCat("tls: more than ", _max_in,
                             " bytes of ciphertext received and not yet read"));
  }
  if (_in_pos > 0) {
    // Compact so that _in never holds consumed bytes across feeds.
    _in.erase(0, _in_pos);
    _in_pos = 0;
  }
  _in.append(ciphertext);
  return absl::OkStatus();
}

absl::Status TlsSession::receive(std::string_view ciphertext, std::string* plaintext_out) {
  absl::Status st = feed(ciphertext);
  if (st.ok()) {
    st = read(plaintext_out);
  }
  if (st.ok() && _failed) {
    st = absl::InternalError(_error);
  }
  return st;
}

absl::Status TlsSession::read(std::string* plaintext_out) {
  if (_failed) {
    return absl::FailedPreconditionError(_error);
  }
  if (!_handshake_done) {
    int ret = wolfSSL_negotiate(_ssl);
    if (ret != WOLFSSL_SUCCESS) {
      int err = wolfSSL_get_error(_ssl, ret);
      if (would_block(err) && !_out_overflow) {
        return absl::OkStatus();
      }
      return fail_wolfssl("handshake", err);
    }
    _handshake_done = true;
  }
  if (plaintext_out == nullptr) {
    return absl::OkStatus();
  }
  char buf[kMaxRecordPlain];
  while (!_peer_closed) {
    int n = wolfSSL_read(_ssl, buf, sizeof(buf));
    if (n > 0) {
      plaintext_out->append(buf, static_cast<size_t>(n));
      continue;
    }
    int err = wolfSSL_get_error(_ssl, n);
    if (err == WOLFSSL_ERROR_ZERO_RETURN) {
      _peer_closed = true;
      break;
    }
    if (would_block(err) && !_out_overflow) {
      break;
    }
    return fail_wolfssl("read", err);
  }
  return absl::OkStatus();
}

absl::Status TlsSession::write(std::string_view plaintext) {
  if (_failed) {
    return absl::FailedPreconditionError(_error);
  }
  if (!_handshake_done) {
    return absl::FailedPreconditionError("tls: write before the handshake is done");
  }
  size_t records = (plaintext.size() + kMaxRecordPlain - 1) / kMaxRecordPlain;
  if (_out.size() + plaintext.size() + records * kRecordOverhead > _max_out) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tls: ", _out.size(), " bytes of ciphertext wait to be sent; ",
                     plaintext.size(), " more would pass ", _max_out));
  }
  // wolfSSL_write cuts its input into records itself; the loop only keeps
  // each call's length within an int.
  constexpr size_t kMaxCall = 1 << 20;
  while (!plaintext.empty()) {
    size_t len = std::min(plaintext.size(), kMaxCall);
    int n = wolfSSL_write(_ssl, plaintext.data(), static_cast<int>(len));
    if (n <= 0) {
      return fail_wolfssl("write", wolfSSL_get_error(_ssl, n));
    }
    plaintext.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void TlsSession::shutdown() {
  if (_ssl == nullptr || _failed || !_handshake_done) {
    return;
  }
  // Returns "not done" until the peer's close_notify arrives; we do not wait
  // for it (RFC 8446 §6.1 allows closing after sending ours).
  (void)wolfSSL_shutdown(_ssl);
}

bool TlsSession::handshake_just_done() {
  if (_handshake_done && !_handshake_reported) {
    _handshake_reported = true;
    return true;
  }
  return false;
}

std::string TlsSession::version() const {
  if (!_handshake_done) {
    return "";
  }
  return wolfSSL_get_version(_ssl);
}

std::string TlsSession::cipher() const {
  if (!_handshake_done) {
    return "";
  }
  int suite = wolfSSL_get_current_cipher_suite(_ssl);
  const char* name = wolfSSL_get_cipher_name_iana_from_suite(
      static_cast<unsigned char>((suite >> 8) & 0xff), static_cast<unsigned char>(suite & 0xff));
  return name != nullptr ? name : "";
}

void encrypt_output(TlsSession& tls, std::string* plain, size_t* pos) {
  constexpr size_t kChunk = 1 << 20;
  if (!tls.handshake_done() || *pos >= plain->size()) {
    return;
  }
  size_t n = std::min(kChunk, plain->size() - *pos);
  // ResourceExhausted means the TLS layer holds enough: retry after a send.
  if (tls.write(std::string_view(*plain).substr(*pos, n)).ok()) {
    *pos += n;
  }
  if (*pos == plain->size()) {
    plain->clear();
    *pos = 0;
  }
}

}  // namespace ringmta
