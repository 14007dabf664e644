// engine/runtime/log.h — one line per event on stderr, with a level.
//
//   log_info("shard {} listening on {}", id, addr);   // fmt-style via absl::StrFormat
//
// Each line is written with a single write(2), so lines from different
// shards never interleave. Logging is for start-up, shutdown, recovery and
// errors: it is never called per message on the hot path.
#pragma once

#include <string_view>

#include "absl/strings/str_format.h"

namespace ringmta {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// parse_log_level accepts debug, info, warn, error.
bool parse_log_level(std::string_view name, LogLevel* out);
void log_line(LogLevel level, std::string_view text);

template <typename... Args>
void log_at(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (level >= log_level()) {
    log_line(level, absl::StrFormat(format, args...));
  }
}
template <typename... Args>
void log_debug(const absl::FormatSpec<Args...>& f, const Args&... a) { log_at(LogLevel::kDebug, f, a...); }
template <typename... Args>
void log_info(const absl::FormatSpec<Args...>& f, const Args&... a) { log_at(LogLevel::kInfo, f, a...); }
template <typename... Args>
void log_warn(const absl::FormatSpec<Args...>& f, const Args&... a) { log_at(LogLevel::kWarn, f, a...); }
template <typename... Args>
void log_error(const absl::FormatSpec<Args...>& f, const Args&... a) { log_at(LogLevel::kError, f, a...); }

}  // namespace ringmta
