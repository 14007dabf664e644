// engine/shard.h — one shard: a thread pinned to a CPU that owns, alone and
// without locks, an io_uring ring, a provided-buffer ring, one listening
// socket per listen address, its SMTP sessions and its spool segment.
//
//   Shard s(id, config, listen_fds, mesh, stop_fd);
//   std::thread t([&] { s.run(); });        // returns after a stop
//
// The loop is a short list of pollers (Seastar's reactor does the same):
// drain the mesh, start a spool batch, submit and wait, dispatch every
// completion, return buffers, run the once-a-second timer. It blocks only
// when nothing is pending, and then at most until the next timer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/buffer_ring.h"
#include "engine/config.h"
#include "engine/connection.h"
#include "engine/ring.h"
#include "engine/shard_mesh.h"
#include "proto/server_session.h"
#include "spool/queue_id.h"
#include "spool/segment_writer.h"

struct io_uring_cqe;

namespace ringmta {

// ShardTask is work one shard hands another through the mesh; it runs on
// the receiving shard's thread.
using ShardTask = std::function<void()>;
using Mesh = ShardMesh<ShardTask>;

struct ShardStats {
  uint64_t connections = 0;
  uint64_t messages = 0;
  uint64_t store_failures = 0;
  uint64_t batches = 0;
};

class Shard {
 public:
  // listen_fds: this shard's own SO_REUSEPORT sockets, one per address.
  // max_queue_id: the highest id recovery saw, so new ids sort above it.
  Shard(unsigned id, const Config& config, std::vector<int> listen_fds, Mesh* mesh, int stop_fd,
        std::string max_queue_id);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // run sets up the ring and the spool on the calling thread, serves until
  // the stop eventfd fires and everything in flight is settled, and returns
  // what went wrong, if anything.
  absl::Status run();
  const ShardStats& stats() const { return _stats; }

 private:
  struct StoreWaiter {
    uint64_t ticket;
    std::unique_ptr<proto::CompletedMessage> message;
    uint32_t slot;
    uint32_t gen;
  };

  absl::Status setup();
  void loop();
  void dispatch(io_uring_cqe* cqe);
  void arm_accept(uint32_t listener);
  void on_accept(uint32_t listener, io_uring_cqe* cqe);
  void on_tick(int64_t now_ms);
  void begin_stop();

  // Per-connection I/O (shard_io.cc).
  Connection* live(uint32_t slot, uint32_t gen);
  void arm_recv(uint32_t slot);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  void feed(uint32_t slot, std::string_view data);
  void run_session(uint32_t slot);
  void flush(uint32_t slot);
  void on_send(uint32_t slot, io_uring_cqe* cqe);
  void shut(uint32_t slot);
  void maybe_release(uint32_t slot);

  // The spool (shard_store.cc).
  void store(uint32_t slot);
  void pump_spool();
  void submit_batch(const spool::SegmentWriter::Batch& b);
  void on_spool_write(uint32_t batch, int res);
  void on_spool_sync(uint32_t batch, int res);
  void settle_waiters();

  const unsigned _id;
  const Config& _config;
  std::vector<int> _listen_fds;
  std::vector<bool> _accept_armed;
  Mesh* _mesh;
  const int _stop_fd;
  const std::string _max_queue_id;

  std::unique_ptr<Ring> _ring;
  std::unique_ptr<BufferRing> _buffers;
  std::unique_ptr<spool::SegmentWriter> _spool;
  std::unique_ptr<spool::QueueIdGenerator> _ids;
  proto::SessionConfig _session_config;

  // A deque, not a vector: growing it must never move a Connection, since
  // the kernel holds pointers into it (an in-flight send of a short reply
  // points into the std::string's inline buffer).
  std::deque<Connection> _conns;
  std::vector<uint32_t> _free_slots;
  uint64_t _open_conns = 0;
  std::deque<StoreWaiter> _waiters;
  uint32_t _batch = 0;  // number of the spool batch in flight

  bool _stopping = false;
  int64_t _stop_deadline_ms = 0;
  int64_t _next_tick_ms = 0;
  ShardStats _stats;
};

int64_t monotonic_ms();

}  // namespace ringmta
