// bench/smtpblast_sink_tls.cc — the sink's STARTTLS (--tls-cert,
// --tls-key), as in engine/inbound/inbound_io.cc: the 220 goes out in plaintext,
// then the connection's bytes go through a TlsSession and the
// proto::ServerSession sees only plaintext. Sending is in flush()
// (smtpblast_sink_io.cc), which encrypts with encrypt_output().
#include "absl/strings/str_cat.h"
#include "bench/smtpblast_sink.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::blast {

void Sink::start_tls(uint32_t slot) {
  Conn& c = _conns[slot];
  proto::ServerSession& s = *c.session;
  c.plain_out.append(s.output());
  s.output().clear();
  // What the client sent after STARTTLS in plaintext is dropped, never
  // executed (CVE-2011-0411): the session has already swallowed it, and
  // nothing held back here may reach it either.
  c.pending.clear();
  c.tls = std::make_unique<TlsSession>(*_tls, "");
  if (c.tls->failed()) {
    ++_stats.tls_failures;
    _stats.tls_last_error = c.tls->error();
    shut(slot);
  }
}

bool Sink::tls_input(uint32_t slot, std::string_view* data) {
  Conn& c = _conns[slot];
  _plain.clear();
  absl::Status st = c.tls->receive(*data, &_plain);
  if (!st.ok()) {
    ++_stats.tls_failures;
    _stats.tls_last_error = std::string(sv(st.message()));
    shut(slot);
    return false;
  }
  if (c.tls->handshake_just_done()) {
    if (_stats.tls_sessions++ == 0) {
      _stats.tls_version = c.tls->version();
      _stats.tls_cipher = c.tls->cipher();
    }
    c.session->on_tls_established(c.tls->version(), c.tls->cipher());
  }
  *data = _plain;
  return true;
}

}  // namespace ringmta::blast
