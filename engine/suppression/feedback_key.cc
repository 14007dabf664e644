// engine/suppression/feedback_key.cc — making and reading the VERP key
// (feedback_key.h).
#include "engine/suppression/feedback_key.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringmta {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kMinKeyBytes = 16;

absl::Status sys_error(const std::string& path, const char* what) {
  return absl::InternalError(absl::StrCat("feedback key ", path, ": ", what, ": ", std::strerror(errno)));
}

absl::Status create_key(const std::string& path) {
  char key[kKeyBytes];
  if (getrandom(key, sizeof key, 0) != static_cast<ssize_t>(sizeof key)) {
    return sys_error(path, "getrandom");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno == EEXIST ? absl::OkStatus() : sys_error(path, "cannot create it");
  }
  const bool ok = ::write(fd, key, sizeof key) == static_cast<ssize_t>(sizeof key) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return sys_error(path, "cannot write it");
  // The file's name must survive a crash too, or the next start makes a
  // new key and every token already out stops verifying.
  const std::string dir = path.rfind('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  const int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> load_feedback_key(const std::string& path) {
  if (absl::Status s = create_key(path); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(path, "cannot open it");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return sys_error(path, "fstat");
  }
  if (st.st_mode & 0077) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "feedback key ", path, " is readable by other users: chmod 600 it (whoever has it can forge bounces)"));
  }
  std::string key(256, '\0');
  const ssize_t n = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (n < static_cast<ssize_t>(kMinKeyBytes)) {
    return absl::FailedPreconditionError(absl::StrCat("feedback key ", path, " holds ", n < 0 ? 0 : n,
                                                      " bytes; it needs at least ", kMinKeyBytes,
                                                      " (delete it to have a new one made)"));
  }
  key.resize(static_cast<size_t>(n));
  return key;
}

}  // namespace ringmta
