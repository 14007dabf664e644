// bench/smtpblast_report.h — what smtpblast counts, and how it tells
// people: the live progress line, the final summary, and the same as JSON.
//
//   Progress p(opts.quiet);           // \r-updated on a terminal, else 1/s
//   p.tick(now_ns, done, errors);     // call often; prints when due
//   print_client_summary(stdout, stats);  write_client_json(path, stats);
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "engine/runtime/latency_histogram.h"

namespace ringmta::blast {

// ClientStats: one client run.
struct ClientStats {
  uint64_t target = 0;          // messages wanted (0 with --duration)
  uint64_t dispatched = 0;      // transactions started
  uint64_t completed = 0;       // transactions with a result
  uint64_t ok = 0;              // ... whose reply was 2xx
  uint64_t no_reply = 0;        // ... ended by a lost connection or timeout
  uint64_t connections = 0;     // connections opened (connect succeeded)
  uint64_t connection_errors = 0;  // connects failed, sessions failed
  std::array<uint64_t, 600> codes{};  // server replies by code
  LatencyHistogram latency;
  bool open_loop = false;       // --rate: latency from the scheduled time
  double seconds = 0;           // first connect to last result
  bool timed_out = false;
  bool interrupted = false;
  std::string why;              // why the exit status is 1; "" when 0
  // --tls: what the first handshake negotiated (the same context makes every
  // connection, so one is the answer for all), and how many completed.
  bool tls = false;
  std::string tls_version;      // "TLSv1.3"
  std::string tls_cipher;       // "TLS_CHACHA20_POLY1305_SHA256"
  uint64_t tls_handshakes = 0;
  uint64_t tls_messages = 0;    // transactions started over TLS
  double cpu_seconds = 0;       // this process, user + system
};

// SinkStats: one sink run.
struct SinkStats {
  uint64_t accepted = 0;      // ends of data answered 2xx
  uint64_t messages = 0;      // every end of data
  uint64_t connections = 0;   // accepted connections
  uint64_t disconnects = 0;   // messages answered 421 + close
  std::array<uint64_t, 600> codes{};  // end-of-data replies by code
  double first_connection_unix = 0;   // wall clock, seconds
  double last_accepted_unix = 0;
  double seconds = 0;         // first connection to the last end of data
  // --tls-cert: STARTTLS offered. tls_messages counts ends of data received
  // over TLS, so a test can tell that none came in plaintext.
  bool tls = false;
  uint64_t tls_sessions = 0;  // handshakes completed
  uint64_t tls_failures = 0;  // handshakes or records that failed
  uint64_t tls_messages = 0;
  std::string tls_version;    // of the first handshake
  std::string tls_cipher;
  std::string tls_last_error;
  double cpu_seconds = 0;     // this process, user + system
};

class Progress {
 public:
  explicit Progress(bool quiet);
  // tick prints `sent N  rate R/s  errors E` when the next line is due.
  void tick(int64_t now_ns, uint64_t done, uint64_t errors);
  // finish ends a \r-updated line so that the summary starts on its own.
  void finish();

 private:
  bool _quiet;
  bool _tty;
  bool _dirty = false;
  int64_t _next_ns = 0;
  int64_t _last_ns = 0;
  uint64_t _last_done = 0;
};

// process_cpu_seconds is this process's user + system CPU time so far.
double process_cpu_seconds();

void print_client_summary(FILE* out, const ClientStats& s);
absl::Status write_client_json(const std::string& path, const ClientStats& s);

void print_sink_summary(FILE* out, const SinkStats& s);
absl::Status write_sink_json(const std::string& path, const SinkStats& s);

}  // namespace ringmta::blast
