#include "engine/runtime/buffer_ring.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>

#include "absl/status/status.h"

namespace ringmta {

absl::StatusOr<std::unique_ptr<BufferRing>> BufferRing::create(io_uring* ring, uint16_t group,
                                                               uint32_t count, uint32_t size) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768) {
    return absl::InvalidArgumentError("buffer ring count must be a power of two <= 32768");
  }
  std::unique_ptr<BufferRing> b(new BufferRing());
  b->_ring = ring;
  b->_count = count;
  b->_size = size;
  b->_group = group;
  b->_ring_bytes = count * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, b->_ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
                   -1, 0);
  if (mem == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, "mmap(buffer ring)");
  }
  b->_br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(b->_br);
  reg.ring_entries = count;
  reg.bgid = group;
  int r = io_uring_register_buf_ring(ring, &reg, 0);
  if (r != 0) {
    munmap(mem, b->_ring_bytes);
    b->_br = nullptr;
    return absl::ErrnoToStatus(-r, "io_uring_register_buf_ring");
  }
  b->_buffers = static_cast<char*>(std::aligned_alloc(4096, size_t{count} * size));
  if (b->_buffers == nullptr) {
    return absl::ResourceExhaustedError("out of memory for receive buffers");
  }
  io_uring_buf_ring_init(b->_br);
  for (uint32_t i = 0; i < count; ++i) {
    b->recycle(static_cast<uint16_t>(i));
  }
  b->flush();
  return b;
}

BufferRing::~BufferRing() {
  if (_br != nullptr) {
    io_uring_unregister_buf_ring(_ring, _group);
    munmap(_br, _ring_bytes);
  }
  std::free(_buffers);
}

void BufferRing::recycle(uint16_t id) {
  io_uring_buf_ring_add(_br, _buffers + size_t{id} * _size, _size, id,
                        io_uring_buf_ring_mask(_count), _pending);
  ++_pending;
}

void BufferRing::flush() {
  if (_pending > 0) {
    io_uring_buf_ring_advance(_br, _pending);
    _pending = 0;
  }
}

}  // namespace ringmta
