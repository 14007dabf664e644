#include "spool/spool_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spool/errors.h"
#include "spool/layout.h"

namespace ringmta::spool {
namespace {

// holder_pid reads the pid the holder wrote; "unknown" if it cannot.
std::string holder_pid(int fd) {
  char buf[32];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return "unknown";
  }
  absl::string_view text(buf, static_cast<size_t>(n));
  text = absl::StripAsciiWhitespace(text);
  long pid = 0;
  if (!absl::SimpleAtoi(text, &pid) || pid <= 0) {
    return "unknown";
  }
  return absl::StrCat(pid);
}

}  // namespace

SpoolLock::SpoolLock(SpoolLock&& o) noexcept
    : _fd(std::exchange(o._fd, -1)), _path(std::move(o._path)) {}

SpoolLock& SpoolLock::operator=(SpoolLock&& o) noexcept {
  if (this != &o) {
    if (_fd >= 0) {
      ::close(_fd);
    }
    _fd = std::exchange(o._fd, -1);
    _path = std::move(o._path);
  }
  return *this;
}

SpoolLock::~SpoolLock() {
  if (_fd >= 0) {
    ::close(_fd);  // releases the flock
  }
}

absl::StatusOr<SpoolLock> SpoolLock::acquire(const std::string& spool_root) {
  SPOOL_RETURN_IF_ERROR(make_dirs(spool_root, 0700));
  SpoolLock lock;
  lock._path = spool_root + "/lock";
  lock._fd = ::open(lock._path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock._fd < 0) {
    return errno_status("open", lock._path);
  }
  if (::flock(lock._fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "flock ", lock._path, ": spool ", spool_root, " is in use by another ringmta (pid ",
          holder_pid(lock._fd), "); stop it or use --spool DIR"));
    }
    return errno_status("flock", lock._path);
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  if (::ftruncate(lock._fd, 0) < 0) {
    return errno_status("ftruncate", lock._path);
  }
  if (::pwrite(lock._fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return errno_status("pwrite", lock._path);
  }
  return lock;
}

}  // namespace ringmta::spool
