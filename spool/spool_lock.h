// spool/spool_lock.h — one engine per spool: an exclusive flock on
// ROOT/lock, held for the engine's life, with the holder's pid in the file so
// the error for a second engine can say who has it.
//
//   absl::StatusOr<SpoolLock> lock = SpoolLock::acquire("/var/spool/ringmta");
//   if (!lock.ok()) die(lock.status());  // "... in use by another ringmta (pid 1234) ..."
//
// The lock goes with the process: a crashed engine holds nothing. Tools that
// only read (ringmta-spool) do not take it.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace ringmta::spool {

class SpoolLock {
 public:
  SpoolLock(SpoolLock&& o) noexcept;
  SpoolLock& operator=(SpoolLock&& o) noexcept;
  SpoolLock(const SpoolLock&) = delete;
  SpoolLock& operator=(const SpoolLock&) = delete;
  ~SpoolLock();

  // acquire creates spool_root (mode 0700) if needed and locks it; fails at
  // once, naming the holder's pid, if another process (or another SpoolLock
  // in this one) holds it.
  static absl::StatusOr<SpoolLock> acquire(const std::string& spool_root);

  const std::string& path() const { return _path; }  // ROOT/lock

 private:
  SpoolLock() = default;
  int _fd = -1;
  std::string _path;
};

}  // namespace ringmta::spool
