#include "engine/runtime/ring.h"

#include <cerrno>

#include "absl/status/status.h"

namespace ringmta {

absl::StatusOr<std::unique_ptr<Ring>> Ring::create(unsigned entries) {
  std::unique_ptr<Ring> r(new Ring());
  struct Try {
    unsigned flags;
    const char* mode;
  };
  const Try tries[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
       "single-issuer+defer-taskrun"},
      {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL, "coop-taskrun"},
      {0, "plain"},
  };
  int err = 0;
  for (const Try& t : tries) {
    io_uring_params p{};
    p.flags = t.flags;
    // A large CQ ring absorbs bursts of multishot completions.
    p.flags |= IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 4;
    err = io_uring_queue_init_params(entries, &r->_ring, &p);
    if (err == 0) {
      r->_mode = t.mode;
      return r;
    }
    if (err != -EINVAL) {
      break;
    }
  }
  return absl::ErrnoToStatus(-err, "io_uring_queue_init_params");
}

Ring::~Ring() {
  if (_ring.ring_fd > 0) {
    io_uring_queue_exit(&_ring);
  }
}

io_uring_sqe* Ring::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&_ring);
  while (s == nullptr) {
    io_uring_submit(&_ring);
    s = io_uring_get_sqe(&_ring);
  }
  return s;
}

std::pair<io_uring_sqe*, io_uring_sqe*> Ring::sqe_pair() {
  while (io_uring_sq_space_left(&_ring) < 2) {
    io_uring_submit(&_ring);
  }
  io_uring_sqe* first = io_uring_get_sqe(&_ring);
  return {first, io_uring_get_sqe(&_ring)};
}

int Ring::submit_and_wait(unsigned wait, int64_t timeout_us) {
  if (timeout_us < 0) {
    return io_uring_submit_and_wait(&_ring, wait);
  }
  __kernel_timespec ts{};
  ts.tv_sec = timeout_us / 1000000;
  ts.tv_nsec = (timeout_us % 1000000) * 1000L;
  io_uring_cqe* cqe = nullptr;
  int r = io_uring_submit_and_wait_timeout(&_ring, &cqe, wait, &ts, nullptr);
  return (r == -ETIME || r == -EINTR) ? 0 : r;
}

}  // namespace ringmta
