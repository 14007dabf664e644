// tests/proto/session_harness.cc — see session_harness.h.
#include "tests/proto/session_harness.h"

#include <cstdio>

#include "tests/proto/fragments.h"

namespace ringmta::proto::testing {

SessionConfig test_config() {
  SessionConfig config;
  config.hostname = "mx.test";
  config.local_domains.insert("example.test");
  auto counter = std::make_shared<int>(0);
  config.new_queue_id = [counter] {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "Q%04d", ++*counter);
    return std::string(buf);
  };
  config.clock = [] { return absl::FromUnixSeconds(1795341600); };  // 2026-11-22 10:00 UTC
  return config;
}

SessionRun run_session(const SessionConfig& config, std::string_view input,
                       const RunOptions& options) {
  SessionRun run;
  ServerSession session(config, options.client);
  session.start();
  std::string pending;
  for (std::string_view piece : split(input, options.fragment)) {
    pending.append(piece);
    while (!pending.empty() && !session.closing()) {
      size_t used = session.consume(pending);
      pending.erase(0, used);
      if (session.message_ready()) {
        run.messages.push_back(session.take_message());
        if (options.fail_store) {
          session.on_store_failed();
        } else {
          session.on_stored();
        }
        continue;
      }
      if (used == 0) {
        break;
      }
    }
    run.output.append(session.output());
    session.output().clear();
    if (session.closing()) {
      break;
    }
  }
  run.closing = session.closing();
  run.unconsumed = pending.size();
  return run;
}

std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n') {
      out.push_back('\r');
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace ringmta::proto::testing
