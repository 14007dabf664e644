// spool/errors.h — the one way spool/ turns a failed syscall into a Status,
// so every error names the syscall and the path it was about.
//
//   if (::fsync(fd) < 0) return errno_status("fsync", path);
//   SPOOL_RETURN_IF_ERROR(sync_dir(dir));
#pragma once

#include <cerrno>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ringmta::spool {

// errno_status makes "SYSCALL PATH: strerror" with the errno's status code.
inline absl::Status errno_status(int err, std::string_view syscall, std::string_view path) {
  return absl::ErrnoToStatus(
      err, absl::StrCat(absl::string_view(syscall.data(), syscall.size()), " ",
                        absl::string_view(path.data(), path.size())));
}

// errno_status with the current errno.
inline absl::Status errno_status(std::string_view syscall, std::string_view path) {
  return errno_status(errno, syscall, path);
}

}  // namespace ringmta::spool

// This abseil has no status_macros.h; one small macro, written once.
#define SPOOL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status spool_status_ = (expr);         \
    if (!spool_status_.ok()) {                     \
      return spool_status_;                        \
    }                                              \
  } while (0)
