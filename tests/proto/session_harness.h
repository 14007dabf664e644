// tests/proto/session_harness.h — drives a ServerSession the way engine/
// does: feed pieces, keep what consume() left, store every ready message.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/server_session.h"

namespace ringmta::proto::testing {

// test_config: hostname mx.test, local domain example.test, a fixed clock
// (2026-11-22 10:00:00 UTC) and queue ids Q0001, Q0002, ...
SessionConfig test_config();
// tls_test_config: test_config() with STARTTLS and AUTH available (AUTH
// only under TLS, the default).
SessionConfig tls_test_config();

// kTlsMarker, a line of its own in a test input, is not sent: it marks
// where the client's plaintext ends and the TLS handshake happens. If the
// session then wants_tls(), whatever it did not consume is dropped (as the
// engine must) and on_tls_established() is called; the input after the
// marker is what the client sends through TLS. Each side of the marker is
// cut into fragments on its own.
inline constexpr std::string_view kTlsMarker = "--- TLS ---\r\n";

// The credentials the harness accepts by default.
inline constexpr std::string_view kTestUser = "alice";
inline constexpr std::string_view kTestPassword = "secret";

struct SessionRun {
  std::string output;
  std::vector<CompletedMessage> messages;
  bool closing = false;
  size_t unconsumed = 0;  // octets left when the session closed
  std::vector<AuthRequest> auth_requests;  // every request, in order
  int tls_handshakes = 0;                  // on_tls_established() calls
  // Octets the harness still held at a handshake: the session drops
  // pipelined plaintext itself, so this stays 0.
  size_t held_at_handshake = 0;
};

struct RunOptions {
  size_t fragment = 0;      // 0: the whole input in one consume()
  bool fail_store = false;  // answer on_store_failed() instead of on_stored()
  ClientInfo client{.addr = "192.0.2.1", .may_relay = false};
  // Answers each AUTH request at once; null accepts kTestUser/kTestPassword.
  std::function<bool(const AuthRequest&)> check_credentials;
};

// run_session starts a session on `config`, feeds `input` and returns what
// came out.
SessionRun run_session(const SessionConfig& config, std::string_view input,
                       const RunOptions& options = {});

// crlf turns "\n" into "\r\n" (test inputs are easier to read that way).
std::string crlf(std::string_view text);

}  // namespace ringmta::proto::testing
