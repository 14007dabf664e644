// engine/outbound/outbound_tls.cc — STARTTLS on outbound connections, with
// one client context per shard, made on first use (outbound.h).
#include "engine/outbound/outbound.h"
#include "engine/runtime/log.h"

namespace ringmta {

// start_tls begins the handshake after the server's 220 to STARTTLS.
bool Outbound::start_tls(uint32_t slot) {
  OutboundConn& c = _conns[slot];
  // Whatever followed the 220 came in plaintext before the handshake: a
  // man in the middle could have put it there (response injection).
  c.pending.clear();
  TlsContext* ctx = tls_client();
  if (ctx == nullptr) {
    _sites.at(c.site_key)->last_error = "TLS is not available (see the log)";
    return false;
  }
  c.tls = std::make_unique<TlsSession>(*ctx, c.host);
  (void)c.tls->read(nullptr);  // produces the ClientHello
  return true;
}

TlsContext* Outbound::tls_client() {
  if (!_tls_client && !_tls_client_failed) {
    // No verification (RFC 7435 opportunistic TLS, like Postfix's "may"
    // and "encrypt" levels): the point is encryption, not authentication.
    absl::StatusOr<std::unique_ptr<TlsContext>> ctx = TlsContext::client(TlsOptions{});
    if (ctx.ok()) {
      _tls_client = std::move(*ctx);
    } else {
      _tls_client_failed = true;
      log_error("shard %u: outbound TLS unavailable: %s", _ctx.id, ctx.status().message());
    }
  }
  return _tls_client.get();
}

}  // namespace ringmta
