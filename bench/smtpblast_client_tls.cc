// bench/smtpblast_client_tls.cc — the client's STARTTLS (--tls), as in
// engine/outbound/outbound_tls.cc: after the server's 220 to STARTTLS the
// connection's bytes go through an engine/tls/tls_session.h TlsSession, and
// the proto::ClientSession sees only plaintext. Sending is in flush()
// (smtpblast_client_io.cc), which encrypts with encrypt_output().
#include "absl/strings/str_cat.h"
#include "bench/smtpblast_client.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::blast {

void Client::start_tls(uint32_t slot) {
  Conn& c = _conns[slot];
  // Whatever followed the 220 came in plaintext before the handshake: a man
  // in the middle could have put it there (response injection).
  c.pending.clear();
  // No SNI: --server is an address, and TlsSession sends none for those.
  c.tls = std::make_unique<TlsSession>(*_tls, "");
  if (c.tls->failed()) {
    c.tls_error = absl::StrCat("TLS with ", _server.text, ": ", c.tls->error());
    c.session->on_connection_lost();
    return;
  }
  (void)c.tls->read(nullptr);  // the ClientHello, sent by flush()
}

bool Client::tls_input(uint32_t slot, std::string_view* data) {
  Conn& c = _conns[slot];
  _plain.clear();
  absl::Status st = c.tls->receive(*data, &_plain);
  if (!st.ok()) {
    c.tls_error = absl::StrCat("TLS with ", _server.text, " failed: ", st.message());
    c.session->on_connection_lost();
    return false;
  }
  if (c.tls->handshake_just_done()) {
    if (_stats.tls_handshakes++ == 0) {
      // Every connection comes from one context: the first says it for all.
      _stats.tls_version = c.tls->version();
      _stats.tls_cipher = c.tls->cipher();
    }
    c.session->on_tls_established();  // queues the second EHLO
  }
  *data = _plain;
  return true;
}

}  // namespace ringmta::blast
