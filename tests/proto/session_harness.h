// tests/proto/session_harness.h — drives a ServerSession the way engine/
// does: feed pieces, keep what consume() left, store every ready message.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/server_session.h"

namespace ringmta::proto::testing {

// test_config: hostname mx.test, local domain example.test, a fixed clock
// (2026-11-22 10:00:00 UTC) and queue ids Q0001, Q0002, ...
SessionConfig test_config();

struct SessionRun {
  std::string output;
  std::vector<CompletedMessage> messages;
  bool closing = false;
  size_t unconsumed = 0;  // octets left when the session closed
};

struct RunOptions {
  size_t fragment = 0;      // 0: the whole input in one consume()
  bool fail_store = false;  // answer on_store_failed() instead of on_stored()
  ClientInfo client{.addr = "192.0.2.1", .may_relay = false};
};

// run_session starts a session on `config`, feeds `input` and returns what
// came out.
SessionRun run_session(const SessionConfig& config, std::string_view input,
                       const RunOptions& options = {});

// crlf turns "\n" into "\r\n" (test inputs are easier to read that way).
std::string crlf(std::string_view text);

}  // namespace ringmta::proto::testing
