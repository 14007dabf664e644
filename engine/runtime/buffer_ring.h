// engine/runtime/buffer_ring.h — a provided-buffer ring: the kernel picks a free
// buffer for each multishot recv completion, so idle connections hold no
// receive memory (10,000 idle sessions cost nothing but their state).
//
//   auto br = BufferRing::create(ring, /*group=*/0, /*count=*/512, /*size=*/16384);
//   on a recv cqe: uint16_t id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
//                  std::string_view data(br->data(id), cqe->res);
//                  ... use data ...; br->recycle(id);
//
// liburing 2.3 lacks io_uring_setup_buf_ring, so the ring memory is mapped
// and registered by hand (as liburing-2.3's examples/io_uring-udp.c does).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace ringmta {

class BufferRing {
 public:
  static absl::StatusOr<std::unique_ptr<BufferRing>> create(io_uring* ring, uint16_t group,
                                                            uint32_t count, uint32_t size);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  uint16_t group() const { return _group; }
  const char* data(uint16_t id) const { return _buffers + size_t{id} * _size; }
  // recycle hands a buffer back to the kernel; batched by flush().
  void recycle(uint16_t id);
  // flush publishes every recycled buffer with one store.
  void flush();

 private:
  BufferRing() = default;
  io_uring* _ring = nullptr;
  io_uring_buf_ring* _br = nullptr;
  size_t _ring_bytes = 0;
  char* _buffers = nullptr;
  uint32_t _count = 0;
  uint32_t _size = 0;
  uint16_t _group = 0;
  int _pending = 0;
};

}  // namespace ringmta
