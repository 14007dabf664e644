// tests/proto/session_harness.cc — see session_harness.h.
#include "tests/proto/session_harness.h"

#include <cstdio>

#include "tests/proto/fragments.h"

namespace ringmta::proto::testing {

SessionConfig test_config() {
  SessionConfig config;
  config.hostname = "mx.test";
  config.local_domains.insert("example.test");
  config.postmaster = "ops@example.test";
  auto counter = std::make_shared<int>(0);
  config.new_queue_id = [counter] {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "Q%04d", ++*counter);
    return std::string(buf);
  };
  config.clock = [] { return absl::FromUnixSeconds(1795341600); };  // 2026-11-22 10:00 UTC
  return config;
}

SessionConfig tls_test_config() {
  SessionConfig config = test_config();
  config.starttls_available = true;
  config.auth_available = true;
  return config;
}

namespace {

// split_at_marker cuts the input at each kTlsMarker line.
std::vector<std::string_view> split_at_marker(std::string_view input) {
  std::vector<std::string_view> segments;
  for (;;) {
    size_t at = input.find(kTlsMarker);
    if (at == std::string_view::npos) {
      segments.push_back(input);
      return segments;
    }
    segments.push_back(input.substr(0, at));
    input.remove_prefix(at + kTlsMarker.size());
  }
}

bool accept_test_user(const AuthRequest& r) {
  return r.user == kTestUser && r.password == kTestPassword;
}

}  // namespace

SessionRun run_session(const SessionConfig& config, std::string_view input,
                       const RunOptions& options) {
  SessionRun run;
  ServerSession session(config, options.client);
  session.start();
  std::string pending;
  const std::vector<std::string_view> segments = split_at_marker(input);
  for (size_t k = 0; k < segments.size() && !session.closing(); ++k) {
    if (k > 0 && session.wants_tls()) {
      run.held_at_handshake += pending.size();
      pending.clear();
      session.on_tls_established("TLSv1.3", "TLS_AES_256_GCM_SHA384");
      ++run.tls_handshakes;
    }
    for (std::string_view piece : split(segments[k], options.fragment)) {
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
        if (session.auth_pending()) {
          run.auth_requests.push_back(session.take_auth_request());
          const AuthRequest& r = run.auth_requests.back();
          session.on_auth_result(options.check_credentials ? options.check_credentials(r)
                                                           : accept_test_user(r));
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
