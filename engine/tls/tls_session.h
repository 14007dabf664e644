// engine/tls/tls_session.h — one TLS connection as a state machine over memory.
//
// The engine owns the socket and does all I/O through io_uring; wolfSSL never
// sees a file descriptor. Ciphertext from recv goes in with feed(); read()
// drives the handshake and decrypts; write() encrypts; whatever must go to
// the peer (handshake messages, records, alerts) collects in ciphertext_out(),
// which the engine swaps into its own send buffer.
//
//   TlsSession tls(*shard.tls_server, "");           // inbound
//   on recv:   if (!tls.feed(bytes).ok()) close;
//              std::string plain;
//              if (!tls.read(&plain).ok()) close;     // tls.error() says why
//              if (!plain.empty()) smtp.feed(plain);
//              if (tls.handshake_just_done()) log(tls.version(), tls.cipher());
//   to send:   tls.write(smtp_reply);                 // after handshake_done()
//   after either, if no send is in flight and !tls.ciphertext_out().empty():
//              send_buf.swap(tls.ciphertext_out());   // tls's buffer is now empty
//              submit send of send_buf (stays valid: it is the engine's now)
//
// A client session sends first: call read() once right after making it, and
// send the ClientHello it leaves in ciphertext_out().
//
// wolfSSL holds a pointer to the session, so it neither copies nor moves:
// keep it in a std::unique_ptr in the connection. It costs ~56 KiB of heap
// (measured; most of it is wolfSSL's own state in this Debian build).
//
// Nothing here blocks or allocates per byte beyond the buffers; the handshake
// goes as far as the bytes fed allow, however they are fragmented. Pending
// input and output are bounded by TlsOptions::max_pending_in/_out.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

struct WOLFSSL;
struct WOLFSSL_CTX;

namespace ringmta {

class TlsContext;

class TlsSession {
 public:
  // TlsSession starts a session from ctx (its role decides client or server).
  // sni_host (client only) is sent as SNI, and checked against the server's
  // certificate when the context verifies peers; "" or an IP literal sends
  // none. A failure to start leaves failed() set.
  TlsSession(TlsContext& ctx, std::string_view sni_host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // feed queues ciphertext received from the socket. Fails the session when
  // more than max_pending_in bytes would wait (the caller is not reading).
  absl::Status feed(std::string_view ciphertext);

  // read drives the handshake and appends the plaintext decrypted so far to
  // *plaintext_out (may be null during the handshake). OK with nothing
  // appended means "needs more ciphertext". An error fails the session;
  // an alert for the peer may then wait in ciphertext_out().
  absl::Status read(std::string* plaintext_out);

  // receive is feed then read, the usual pair: the error, if any, also
  // covers a session that failed without one of them saying so (its
  // message is then error()).
  absl::Status receive(std::string_view ciphertext, std::string* plaintext_out);

  // write encrypts plaintext into records (at most 16 KiB each) appended to
  // ciphertext_out(). Needs handshake_done(). Refuses, without failing the
  // session, when ciphertext_out() would pass max_pending_out: send, then
  // retry.
  absl::Status write(std::string_view plaintext);

  // ciphertext_out is what waits to be sent. Swap it out (or clear it after
  // copying); the session only ever appends to it.
  std::string& ciphertext_out() { return _out; }

  // shutdown queues a close_notify alert in ciphertext_out().
  void shutdown();

  bool handshake_done() const { return _handshake_done; }
  // handshake_just_done is true once, on the first call after the handshake
  // completes: the moment to log version() and cipher().
  bool handshake_just_done();
  bool failed() const { return _failed; }
  // peer_closed: the peer sent close_notify; no more plaintext will come.
  bool peer_closed() const { return _peer_closed; }
  const std::string& error() const { return _error; }
  // version is "TLSv1.2" or "TLSv1.3"; cipher is the suite's IANA-style name
  // (e.g. "TLS_CHACHA20_POLY1305_SHA256"). Both "" before the handshake.
  std::string version() const;
  std::string cipher() const;
  size_t pending_in() const { return _in.size() - _in_pos; }

 private:
  static int on_recv(WOLFSSL* ssl, char* buf, int size, void* self);
  static int on_send(WOLFSSL* ssl, char* buf, int size, void* self);
  absl::Status fail(std::string message);
  absl::Status fail_wolfssl(const char* what, int ret);

  std::shared_ptr<WOLFSSL_CTX> _ctx;  // keeps the context alive past a reload
  WOLFSSL* _ssl = nullptr;
  size_t _max_in;
  size_t _max_out;
  std::string _in;     // fed ciphertext; bytes before _in_pos are consumed
  size_t _in_pos = 0;
  std::string _out;    // ciphertext for the engine to send
  bool _handshake_done = false;
  bool _handshake_reported = false;
  bool _failed = false;
  bool _peer_closed = false;
  bool _out_overflow = false;
  std::string _error;
};

// encrypt_output moves what a protocol session wrote (`plain`, of which the
// first *pos bytes were already encrypted) into tls's ciphertext, at most
// 1 MiB per call so that a 50 MB message is never all ciphertext at once.
// When all of `plain` is encrypted it is cleared and *pos reset. Call it
// again after each send completes.
void encrypt_output(TlsSession& tls, std::string* plain, size_t* pos);

}  // namespace ringmta
