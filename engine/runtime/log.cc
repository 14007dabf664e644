#include "engine/runtime/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace ringmta {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view name, LogLevel* out) {
  for (int i = 0; i < 4; ++i) {
    if (name == kNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void log_line(LogLevel level, std::string_view text) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[48];
  size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string line = absl::StrFormat("%s.%03dZ ringmta %s: ", std::string_view(stamp, n),
                                     static_cast<int>(ts.tv_nsec / 1000000),
                                     kNames[static_cast<int>(level)]);
  line.append(text);
  line.push_back('\n');
  // One write so concurrent shards' lines stay whole; a failed log write has
  // nowhere to be reported.
  [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace ringmta
