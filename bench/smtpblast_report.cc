// bench/smtpblast_report.cc — see smtpblast_report.h. Plain stdio: the
// summary is printed once, so nothing here is on a hot path.
#include "bench/smtpblast_report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace ringmta::blast {
namespace {

constexpr int64_t kTtyEveryNs = 250'000'000;   // a few updates a second
constexpr int64_t kLogEveryNs = 1'000'000'000;  // one line per second in logs

// codes_text renders "250: 20000, 451: 0": the codes seen, and always the
// 2xx/4xx/5xx a reader looks for (250 and 451) so a zero is visible too.
std::string codes_text(const std::array<uint64_t, 600>& codes, bool json) {
  std::string out;
  for (int code = 200; code < 600; ++code) {
    uint64_t n = codes[static_cast<size_t>(code)];
    if (n == 0 && code != 250 && code != 451) {
      continue;
    }
    if (json) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", "\"", code, "\": ", n);
    } else {
      absl::StrAppend(&out, out.empty() ? "" : ", ", code, ": ", n);
    }
  }
  return out;
}

absl::Status write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  return ok ? absl::OkStatus() : absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
}

// fixed renders a double with `digits` decimals (StrCat would round a Unix
// time to 6 significant digits).
std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double rate_of(uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

// per_message_us renders CPU seconds as microseconds per message.
double per_message_us(double cpu_s, uint64_t n) { return n > 0 ? cpu_s * 1e6 / static_cast<double>(n) : 0; }

}  // namespace

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

Progress::Progress(bool quiet) : _quiet(quiet), _tty(isatty(STDERR_FILENO) == 1) {}

void Progress::tick(int64_t now_ns, uint64_t done, uint64_t errors) {
  if (_quiet) {
    return;
  }
  if (_next_ns == 0) {
    _next_ns = now_ns + (_tty ? kTtyEveryNs : kLogEveryNs);
    _last_ns = now_ns;
    return;
  }
  if (now_ns < _next_ns) {
    return;
  }
  double dt = static_cast<double>(now_ns - _last_ns) / 1e9;
  double rate = dt > 0 ? static_cast<double>(done - _last_done) / dt : 0;
  std::fprintf(stderr, "%s sent %llu  rate %.0f/s  errors %llu%s", _tty ? "\r" : "",
               static_cast<unsigned long long>(done), rate, static_cast<unsigned long long>(errors),
               _tty ? "   " : "\n");
  std::fflush(stderr);
  _dirty = _tty;
  _last_ns = now_ns;
  _last_done = done;
  _next_ns = now_ns + (_tty ? kTtyEveryNs : kLogEveryNs);
}

void Progress::finish() {
  if (_dirty) {
    std::fputs("\n", stderr);
    _dirty = false;
  }
}

void print_client_summary(FILE* out, const ClientStats& s) {
  std::fprintf(out, "smtpblast: %llu messages in %.3f s: %.0f msg/s\n",
               static_cast<unsigned long long>(s.completed), s.seconds, rate_of(s.completed, s.seconds));
  std::fprintf(out, "  replies: %s\n", codes_text(s.codes, false).c_str());
  std::fprintf(out, "  connections: %llu opened, %llu errors; messages without a server reply: %llu\n",
               static_cast<unsigned long long>(s.connections),
               static_cast<unsigned long long>(s.connection_errors),
               static_cast<unsigned long long>(s.no_reply));
  const LatencyHistogram& h = s.latency;
  std::fprintf(out,
               "  latency (us, from %s, %llu samples): p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu\n",
               s.open_loop ? "the scheduled send time" : "the end of data",
               static_cast<unsigned long long>(h.count()),
               static_cast<unsigned long long>(h.percentile(50)),
               static_cast<unsigned long long>(h.percentile(90)),
               static_cast<unsigned long long>(h.percentile(99)),
               static_cast<unsigned long long>(h.percentile(99.9)),
               static_cast<unsigned long long>(h.max()));
  if (s.tls) {
    std::string what = s.tls_version.empty() ? "no handshake completed"
                                             : absl::StrCat(s.tls_version, " ", s.tls_cipher);
    std::fprintf(out, "  tls: on, %s; %llu handshakes, %llu messages over TLS\n", what.c_str(),
                 static_cast<unsigned long long>(s.tls_handshakes),
                 static_cast<unsigned long long>(s.tls_messages));
  } else {
    std::fprintf(out, "  tls: off\n");
  }
  std::fprintf(out, "  cpu: %.3f s, %.1f us per message (smtpblast itself)\n", s.cpu_seconds,
               per_message_us(s.cpu_seconds, s.completed));
  if (!s.why.empty()) {
    std::fprintf(out, "  FAILED: %s\n", s.why.c_str());
  }
}

absl::Status write_client_json(const std::string& path, const ClientStats& s) {
  const LatencyHistogram& h = s.latency;
  std::string j = absl::StrCat(
      "{\"mode\": \"client\", \"messages\": ", s.completed, ", \"target\": ", s.target,
      ", \"dispatched\": ", s.dispatched, ", \"ok\": ", s.ok, ", \"seconds\": ", fixed(s.seconds, 6),
      ", \"msgs_per_s\": ", fixed(rate_of(s.completed, s.seconds), 1), ", \"replies\": {",
      codes_text(s.codes, true), "}, \"no_reply\": ", s.no_reply, ", \"connections\": ",
      s.connections, ", \"connection_errors\": ", s.connection_errors, ", \"latency_us\": {\"from\": \"",
      s.open_loop ? "scheduled" : "end_of_data", "\", \"count\": ", h.count(), ", \"p50\": ",
      h.percentile(50), ", \"p90\": ", h.percentile(90), ", \"p99\": ", h.percentile(99),
      ", \"p99_9\": ", h.percentile(99.9), ", \"max\": ", h.max(), ", \"mean\": ", h.mean(),
      "}, \"timed_out\": ", s.timed_out ? "true" : "false", ", \"interrupted\": ",
      s.interrupted ? "true" : "false", ", \"tls\": ", s.tls ? "true" : "false",
      ", \"tls_version\": \"", s.tls_version, "\", \"tls_cipher\": \"", s.tls_cipher,
      "\", \"tls_handshakes\": ", s.tls_handshakes, ", \"tls_messages\": ", s.tls_messages,
      ", \"cpu_seconds\": ", fixed(s.cpu_seconds, 6), ", \"success\": ", s.why.empty() ? "true" : "false",
      "}\n");
  return write_file(path, j);
}

void print_sink_summary(FILE* out, const SinkStats& s) {
  std::fprintf(out, "sink: %llu messages accepted, %llu ends of data, %llu connections, %llu disconnects\n",
               static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.messages),
               static_cast<unsigned long long>(s.connections),
               static_cast<unsigned long long>(s.disconnects));
  std::fprintf(out, "  replies: %s\n", codes_text(s.codes, false).c_str());
  std::fprintf(out, "  %.3f s from the first connection to the last end of data: %.0f msg/s\n",
               s.seconds, rate_of(s.messages, s.seconds));
  if (s.tls) {
    std::string what = s.tls_version.empty() ? "" : absl::StrCat(" (", s.tls_version, " ", s.tls_cipher, ")");
    std::string last = s.tls_last_error.empty() ? "" : absl::StrCat("; last: ", s.tls_last_error);
    std::fprintf(out, "  tls: %llu STARTTLS sessions%s, %llu messages over TLS, %llu failures%s\n",
                 static_cast<unsigned long long>(s.tls_sessions), what.c_str(),
                 static_cast<unsigned long long>(s.tls_messages),
                 static_cast<unsigned long long>(s.tls_failures), last.c_str());
  } else {
    std::fprintf(out, "  tls: off (no --tls-cert)\n");
  }
  std::fprintf(out, "  cpu: %.3f s, %.1f us per message\n", s.cpu_seconds,
               per_message_us(s.cpu_seconds, s.messages));
}

absl::Status write_sink_json(const std::string& path, const SinkStats& s) {
  std::string j = absl::StrCat(
      "{\"mode\": \"sink\", \"accepted\": ", s.accepted, ", \"messages\": ", s.messages,
      ", \"connections\": ", s.connections, ", \"disconnects\": ", s.disconnects, ", \"replies\": {",
      codes_text(s.codes, true), "}, \"first_connection\": ", fixed(s.first_connection_unix, 6),
      ", \"last_accepted\": ", fixed(s.last_accepted_unix, 6), ", \"seconds\": ", fixed(s.seconds, 6),
      ", \"msgs_per_s\": ", fixed(rate_of(s.messages, s.seconds), 1), ", \"tls\": ",
      s.tls ? "true" : "false", ", \"tls_sessions\": ", s.tls_sessions, ", \"tls_failures\": ",
      s.tls_failures, ", \"tls_messages\": ", s.tls_messages, ", \"tls_version\": \"", s.tls_version,
      "\", \"tls_cipher\": \"", s.tls_cipher, "\", \"cpu_seconds\": ", fixed(s.cpu_seconds, 6), "}\n");
  return write_file(path, j);
}

}  // namespace ringmta::blast
