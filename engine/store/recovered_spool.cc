#include "engine/store/recovered_spool.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "spool/retire_list.h"

namespace ringmta {

absl::StatusOr<std::unique_ptr<RecoveredSpool>> RecoveredSpool::open(
    const std::string& root, const spool::RecoveryReport& report) {
  std::unique_ptr<RecoveredSpool> rs(new RecoveredSpool());
  rs->_root = root;
  rs->_paths = report.segments;
  rs->_fds.assign(rs->_paths.size(), -1);
  rs->_remaining.store(report.messages.size());
  for (const spool::RecoveredMessage& m : report.messages) {
    int& fd = rs->_fds[m.segment];
    if (fd < 0) {
      fd = ::open(rs->_paths[m.segment].c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return absl::ErrnoToStatus(errno, absl::StrCat("open ", rs->_paths[m.segment]));
      }
    }
  }
  if (rs->_paths.empty()) {
    rs->_retired.store(true);
    return rs;
  }
  rs->_wake_fd = eventfd(0, EFD_CLOEXEC);
  if (rs->_wake_fd < 0) {
    return absl::ErrnoToStatus(errno, "eventfd");
  }
  rs->_thread = std::thread([p = rs.get()] { p->janitor(); });
  return rs;
}

RecoveredSpool::~RecoveredSpool() {
  if (_thread.joinable()) {
    _stop.store(true, std::memory_order_release);
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(_wake_fd, &one, sizeof one);
    _thread.join();
  }
  if (!_fds_closed.load(std::memory_order_acquire)) {
    for (int fd : _fds) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  if (_wake_fd >= 0) {
    ::close(_wake_fd);
  }
}

int RecoveredSpool::fd(uint32_t index) const {
  if (index >= _fds.size() || _fds_closed.load(std::memory_order_acquire)) {
    return -1;
  }
  return _fds[index];
}

void RecoveredSpool::release() {
  if (_remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // eventfd write: one non-blocking syscall, no lock shared with a shard.
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(_wake_fd, &one, sizeof one);
  }
}

void RecoveredSpool::janitor() {
  while (_remaining.load(std::memory_order_acquire) != 0) {
    uint64_t v;
    ssize_t n = ::read(_wake_fd, &v, sizeof v);
    if (n < 0 && errno != EINTR) {
      log_error("spool: recovered segments: eventfd read: %s", strerror(errno));
      return;
    }
    if (_stop.load(std::memory_order_acquire)) {
      return;  // what is left stays for the next start
    }
  }
  absl::Status st = spool::retire_segments(_root, _paths);
  if (!st.ok()) {
    // A pending list is finished by the next start; until then this run
    // deletes none of its own segments (they may hold needed state).
    log_error("spool: deleting the %zu segments found at start failed: %s", _paths.size(),
              st.message());
    return;
  }
  log_info("spool: deleted the %zu segments found at start (every message in them is final "
           "or was copied forward)",
           _paths.size());
  // Their space is freed only when the last fd closes. No shard reads them
  // any more: a message releases its recovered segment only after its last
  // read of it (it was final, or its copy is what it reads from now on).
  for (int& fd : _fds) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  _fds_closed.store(true, std::memory_order_release);
  _retired.store(true, std::memory_order_release);
}

}  // namespace ringmta
