// engine/runtime/ring.h — one io_uring per shard, created on the thread that uses it.
//
//   auto ring = Ring::create(4096);
//   io_uring_sqe* sqe = ring->sqe();       // never null: submits when full
//   io_uring_prep_recv(sqe, ...);
//   ring->submit_and_wait(1, timeout);
//   ring->for_each_cqe([&](io_uring_cqe* c) { ... });
//
// SINGLE_ISSUER and DEFER_TASKRUN tell the kernel only this thread submits
// and that completions' task work may wait until we ask for events, which
// removes IPIs and contention; COOP_TASKRUN is the fallback on kernels that
// refuse DEFER_TASKRUN (< 6.1), and plain flags after that.
#pragma once

#include <liburing.h>

#include <memory>
#include <utility>

#include "absl/status/statusor.h"

namespace ringmta {

class Ring {
 public:
  static absl::StatusOr<std::unique_ptr<Ring>> create(unsigned entries);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* raw() { return &_ring; }
  int fd() const { return _ring.ring_fd; }
  const char* mode() const { return _mode; }

  // sqe returns a free submission entry, submitting queued ones if the
  // submission queue is full.
  io_uring_sqe* sqe();
  // sqe_pair returns two adjacent free entries for a linked pair (an op
  // and its IOSQE_IO_LINK timeout or follower). Two sqe() calls could
  // submit between them when the queue is full, and the kernel would then
  // run the first without its link: a connect without its timeout.
  std::pair<io_uring_sqe*, io_uring_sqe*> sqe_pair();
  // submit_and_wait submits and waits for at least `wait` completions or
  // until timeout_us passes (-1: no timeout). Returns -errno or >= 0.
  int submit_and_wait(unsigned wait, int64_t timeout_us);

  template <typename F>
  unsigned for_each_cqe(F&& f) {
    unsigned head;
    unsigned n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&_ring, head, cqe) {
      f(cqe);
      ++n;
    }
    io_uring_cq_advance(&_ring, n);
    return n;
  }

 private:
  Ring() = default;
  io_uring _ring{};
  const char* _mode = "";
};

}  // namespace ringmta
