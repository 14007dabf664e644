// tests/proto/client_harness.h — drives a ClientSession the way engine/
// does: feed the server's bytes in pieces, keep what consume() left, send
// the scripted messages whenever the session is ready, take every result.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proto/client_session.h"

namespace ringmta::proto::testing {

// ClientAction is what the engine does next. kSend and kQuit wait until the
// session is ready(); kLost and kTimeout happen once all input has been fed.
struct ClientAction {
  enum Kind { kSend, kQuit, kLost, kTimeout } kind = kSend;
  std::string sender;
  std::vector<std::string> recipients;
  std::string trace_headers;
  std::string body;
  bool smtputf8 = false;
  bool eight_bit = false;
};

struct ClientRun {
  std::string output;                      // everything the client wrote
  std::vector<std::string> writes;         // output() at each engine step
  std::vector<TransactionResult> results;
  bool closed = false;
  bool failed = false;
  Reply failure;
  ClientSession::Capabilities caps;
  std::string phase;
  size_t sent = 0;  // messages handed to send_message()
};

// run_client feeds `server` in pieces of `fragment` octets (0: whole).
ClientRun run_client(const ClientConfig& config, std::string_view server,
                     const std::vector<ClientAction>& actions, size_t fragment = 0);

// render_results prints results one line per recipient (golden .result).
std::string render_results(const ClientRun& run,
                           const std::vector<ClientAction>& actions);

// parse_script reads a NAME.script (see client_transcripts/README) into a
// config and actions; false with *error on a bad line.
bool parse_script(std::string_view text, ClientConfig* config,
                  std::vector<ClientAction>* actions, std::string* error);

}  // namespace ringmta::proto::testing
