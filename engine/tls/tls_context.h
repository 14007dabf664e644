// engine/tls/tls_context.h — TLS configuration for one shard and one role: the
// wolfSSL context (certificate, key, versions, ciphers) that TlsSessions are
// made from. See engine/tls/tls_session.h for the per-connection state machine.
//
//   TlsOptions opts;
//   opts.cert_file = "/etc/ringmta/mx.pem";   // chain: leaf first
//   opts.key_file = "/etc/ringmta/mx.key";
//   auto server = TlsContext::server(opts);   // at shard start, one per shard
//   if (!server.ok()) { ... server.status().message() names the file ... }
//   auto client = TlsContext::client(TlsOptions{});   // opportunistic
//   ...
//   on SIGHUP: absl::Status s = (*server)->reload(opts);   // old sessions go on
//
// One context per shard per role: a shard's thread alone uses it, so nothing
// here locks. Contexts read files (blocking disk reads): build and reload them
// at start-up or on SIGHUP, never per connection.
//
// wolfSSL here has no AES-NI: ChaCha20-Poly1305 runs ~3x faster than AES-GCM,
// so the default list puts it first, and the server side imposes its own
// order (a client that offers AES-GCM first still gets ChaCha20).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct WOLFSSL_CTX;

namespace ringmta {

enum class TlsVersion { tls12, tls13 };

struct TlsOptions {
  // Server role: PEM certificate chain (leaf first) and its private key.
  // Client role: optional, a client certificate.
  std::string cert_file;
  std::string key_file;
  // wolfSSL/OpenSSL-style names, ':'-separated. Empty: kDefaultTlsCiphers.
  std::string cipher_list;
  TlsVersion min_version = TlsVersion::tls12;
  TlsVersion max_version = TlsVersion::tls13;
  // Client: verify the server's chain against ca_file and its name against
  // the SNI host. Server: require a client certificate signed by ca_file.
  // Off by default: SMTP TLS between MTAs is opportunistic (RFC 7435), and an
  // unverified encrypted session beats a plaintext one.
  bool verify_peer = false;
  std::string ca_file;
  // Bounds on what one session buffers, so that a peer (or a stalled send)
  // cannot make it grow without limit. Passing either fails the session.
  size_t max_pending_in = 256 * 1024;          // ciphertext fed, not yet read
  size_t max_pending_out = 4 * 1024 * 1024;    // ciphertext not yet sent
};

// kDefaultTlsCiphers: AEAD suites only, ChaCha20-Poly1305 first, then
// AES-GCM; TLS 1.3 suites, then TLS 1.2 ECDHE, then TLS 1.2 DHE.
extern const char* const kDefaultTlsCiphers;

enum class TlsRole { server, client };

class TlsContext {
 public:
  // server builds a server context; the error names the file and the problem
  // (missing file, bad PEM, key that does not match the certificate).
  static absl::StatusOr<std::unique_ptr<TlsContext>> server(const TlsOptions& options);
  // client builds a client context. No verification unless verify_peer.
  static absl::StatusOr<std::unique_ptr<TlsContext>> client(const TlsOptions& options);

  // reload builds a fresh wolfSSL context from options for sessions made from
  // now on; sessions already running keep the one they were made with. On
  // error the current context stays in use.
  absl::Status reload(const TlsOptions& options);

  TlsRole role() const { return _role; }
  const TlsOptions& options() const { return _options; }
  // native is the wolfSSL context for new sessions (shared: a session keeps
  // its own reference, so a reload never frees one under it).
  const std::shared_ptr<WOLFSSL_CTX>& native() const { return _ctx; }

 private:
  TlsContext(TlsRole role, TlsOptions options, std::shared_ptr<WOLFSSL_CTX> ctx)
      : _role(role), _options(std::move(options)), _ctx(std::move(ctx)) {}

  TlsRole _role;
  TlsOptions _options;
  std::shared_ptr<WOLFSSL_CTX> _ctx;
};

// tls_thread_exit frees what wolfSSL caches per thread (the fixed-point ECC
// tables, a few KiB per curve point used). Call it last on every thread that
// ran TLS handshakes, e.g. a shard thread before it returns; otherwise the
// cache leaks at thread exit (LeakSanitizer reports it).
void tls_thread_exit();

// tls_error_text turns a wolfSSL error code into its message and the code,
// e.g. "ASN no signer error to confirm failure (-188)".
std::string tls_error_text(int code);

}  // namespace ringmta
