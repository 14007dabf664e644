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

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/auth/auth_service.h"
#include "engine/runtime/buffer_ring.h"
#include "engine/inbound/client_limits.h"
#include "engine/config/config.h"
#include "engine/inbound/connection.h"
#include "engine/delivery/delivery_job.h"
#include "engine/outbound/destination.h"
#include "engine/dns/dns_resolver.h"
#include "engine/dns/mx_route.h"
#include "engine/delivery/event_log.h"
#include "engine/delivery/live_message.h"
#include "engine/store/recovered_spool.h"
#include "engine/runtime/ring.h"
#include "engine/tls/tls_context.h"
#include "engine/runtime/user_data.h"
#include "engine/runtime/shard_mesh.h"
#include "proto/server_session.h"
#include "spool/queue_id.h"
#include "spool/recovery.h"
#include "spool/segment_ledger.h"
#include "spool/segment_writer.h"

struct io_uring_cqe;

namespace ringmta {

using Mesh = ShardMesh<ShardMessage>;

// ShardServices: what main() hands a shard besides its sockets; main owns
// all of it and outlives the shard.
struct ShardServices {
  AuthService* auth = nullptr;      // null: no --auth-users, AUTH not offered
  ClientLimits* limits = nullptr;   // per-client-IP limits, shared by all shards
  // The server TLS context, built by main() while it could still read the
  // key (before dropping privileges). Null: no certificate.
  std::unique_ptr<TlsContext> tls_server;
  // SIGHUP: main() puts a freshly loaded context here and signals
  // reload_fd; the shard takes it on its own thread.
  std::atomic<TlsContext*> tls_reload{nullptr};
  int reload_fd = -1;

  ~ShardServices() { delete tls_reload.load(); }
};

struct ShardStats {
  uint64_t connections = 0;
  uint64_t messages = 0;
  uint64_t store_failures = 0;
  uint64_t batches = 0;
  uint64_t batch_records = 0;  // records those batches carried
  uint64_t sync_us = 0;        // total time from write submission to sync completion
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  uint64_t loads = 0;           // records read back (deferred, adopted, over the budget)
  uint64_t load_failures = 0;
  uint64_t copies = 0;          // messages copied forward (adoption, compaction)
  uint64_t peak_body_bytes = 0; // most content held in memory at once
  uint64_t segments_deleted = 0;
};

class Shard {
 public:
  // listen_fds: this shard's own SO_REUSEPORT sockets, one per address.
  // max_queue_id: the highest id recovery saw, so new ids sort above it.
  // event_log_fd: the shared O_APPEND event log, or -1.
  // listen_tls[i]: listener i speaks implicit TLS.
  Shard(unsigned id, const Config& config, std::vector<int> listen_fds, std::vector<bool> listen_tls,
        Mesh* mesh, int stop_fd, std::string max_queue_id, int event_log_fd, ShardServices* services);

  // set_recovered: the segments recovery found (shared by all shards),
  // before run(). Null means there were none.
  void set_recovered(RecoveredSpool* r) { _recovered = r; }
  // adopt takes a recovered message before run(), metadata only: it is
  // read back from its segment through the shard's ring, copied into the
  // shard's own segment, and delivered at once or at its next retry time.
  void adopt(const spool::RecoveredMessage& r);
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
    std::unique_ptr<proto::CompletedMessage> message;  // null for state records
    uint32_t slot;  // kNoSession: generated here (a DSN), no session waits
    uint32_t gen;
  };
  static constexpr uint32_t kNoSession = UINT32_MAX;

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
  bool tls_input(uint32_t slot, std::string_view data, std::string* plain);
  void observe_progress(Connection& c);
  void check_timers(uint32_t slot, int64_t now_ms);

  // AUTH and SIGHUP (shard_auth.cc).
  void arm_auth_read();
  void start_auth(uint32_t slot);
  void on_auth_ready();
  void answer_delayed_auth(int64_t now_ms);
  void arm_reload_read();
  void on_reload();
  void on_send(uint32_t slot, io_uring_cqe* cqe);
  void shut(uint32_t slot);
  void maybe_release(uint32_t slot);

  // The spool (shard_store.cc).
  void store(uint32_t slot);
  void pump_spool();
  void submit_batch(const spool::SegmentWriter::Batch& b);
  void on_spool_write(uint32_t batch, int res);
  void batch_durable();
  void settle_waiters(bool batch_ok);
  uint64_t store_generated(std::unique_ptr<proto::CompletedMessage> m);

  // Delivery, origin side (shard_delivery.cc): the messages this shard
  // spooled, routed to the shards that own their destinations.
  void deliver(std::unique_ptr<proto::CompletedMessage> m, SpoolRef ref, bool is_dsn);
  void attempt(uint64_t handle);
  void dispatch_now(uint64_t handle);
  void dispatch(uint64_t handle);
  void send_to_shard(unsigned to, ShardMessage&& m);
  void flush_outbox();
  void on_message(ShardMessage&& m);
  void on_result(DeliveryResult&& r);
  void finish_attempt(uint64_t handle);
  void finalize(uint64_t handle);
  void schedule_retry(uint64_t handle, const LiveMessage& lm);
  void push_retry(absl::Time due, uint64_t handle);
  uint64_t send_dsn(LiveMessage& lm);
  void run_retries(absl::Time now);

  // Content in memory under the budget, read back through the ring
  // (shard_loading.cc).
  bool budget_allows(uint64_t bytes) const;
  void hold_bytes(uint64_t bytes);
  void request_load(uint64_t handle);
  void pump_loads();
  void submit_read(uint32_t slot);
  void on_spool_read(uint32_t slot, uint32_t gen, int res);
  absl::Status take_loaded(LiveMessage& lm, std::string record);
  void load_failed(uint64_t handle, const absl::Status& why);
  void on_loaded(uint64_t handle);
  void drop_body(LiveMessage& lm);
  void release_held(uint64_t through);
  int read_fd(const SpoolRef& ref) const;

  // Which segments hold live messages, copying forward, deleting
  // (shard_retention.cc).
  struct AfterDurable {
    enum class Kind : uint8_t { kRelease, kCopyPlaced, kCopyDone };
    uint64_t ticket = 0;
    uint64_t order = 0;  // push order, among equal tickets
    Kind kind = Kind::kRelease;
    uint32_t copy_seq = 0;
    uint64_t handle = 0;
    SpoolRef a, b;  // kRelease: the segments to release
    // The heap's order: by ticket, then by push order.
    static bool later(const AfterDurable& x, const AfterDurable& y) {
      return x.ticket != y.ticket ? x.ticket > y.ticket : x.order > y.order;
    }
  };
  void note_segment();
  SpoolRef ref_of(const spool::Placement& p) const;
  void acquire_ref(const SpoolRef& ref);
  void release_ref(const SpoolRef& ref);
  uint64_t settled_through() const;
  void after_durable(AfterDurable ev);
  void run_after_durable(bool ok, uint64_t through);
  void apply_after_durable(const AfterDurable& ev, bool ok);
  void migrate(uint64_t handle);
  void append_copy(uint64_t handle);
  void retention_tick(int64_t now_ms);
  void maybe_compact();
  void maybe_delete_segment();
  void on_segment_unlinked(int res);
  void on_spool_dir_synced(int res);

  // Delivery, owner side (shard_outbound.cc): destinations this shard owns
  // and their outbound connections.
  Destination& destination(const DeliveryJob& job);
  void enqueue_job(DeliveryJob&& job);
  void pump_dest(Destination& d);
  void resolve_dest(Destination& d);
  void on_resolved(const std::string& key, const MxRoute& route);
  void fail_queue(Destination& d, Outcome outcome, int code, const std::string& status,
                  const std::string& text);
  void maybe_forget(const std::string& key);
  void open_conn(Destination& d);
  void connect_next(uint32_t slot);
  void on_outbound(const UserData& ud, io_uring_cqe* cqe);
  void arm_out_recv(uint32_t slot);
  void drive_out(uint32_t slot);
  void start_job(uint32_t slot);
  void finish_job(uint32_t slot, proto::TransactionResult&& t);
  void flush_out(uint32_t slot);
  void shut_out(uint32_t slot);
  void release_out(uint32_t slot);
  void outbound_tick(int64_t now_ms);
  void out_data(uint32_t slot, std::string_view data);
  bool start_tls(uint32_t slot);
  TlsContext* tls_client();
  Resolver& resolver();

  const unsigned _id;
  const Config& _config;
  std::vector<int> _listen_fds;
  std::vector<bool> _listen_tls;
  ShardServices* _services;
  std::unique_ptr<TlsContext> _tls_server;  // when a certificate is configured
  std::string _plain;  // feed()'s decrypted input, reused across reads
  uint64_t _auth_ready_count = 0;   // read buffer for the auth eventfd
  uint64_t _reload_count = 0;       // read buffer for the reload eventfd
  // Failed AUTHs are answered after kAuthFailureDelayMs (oldest first; the
  // delay is constant, so this stays in order).
  struct DelayedAuth {
    int64_t due_ms;
    uint32_t slot;
    uint32_t gen;
  };
  std::deque<DelayedAuth> _auth_delayed;
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
  uint32_t _batch = 0;  // number of the spool write in flight (stale completions are dropped)
  int64_t _batch_start_us = 0;
  int64_t _state_pending_since_ms = 0;  // 0: no state record waits for a batch
  static constexpr int64_t kStateFlushMs = 50;
  uint64_t _batch_first_ticket = 0;

  // The spool's segments (shard_retention.cc): this run's own, by slot
  // (SpoolRef::seg), each with a read fd while it exists.
  struct OwnSegment {
    uint64_t number = 0;
    int fd = -1;
  };
  RecoveredSpool* _recovered = nullptr;
  spool::SegmentLedger _ledger;
  std::vector<OwnSegment> _segs;
  int _dir_fd = -1;  // the shard's spool directory: unlinkat and its fsync
  bool _gc_busy = false;          // an unlink or its directory fsync is in flight
  bool _gc_unlink_failed = false;
  uint64_t _gc_number = 0;
  std::string _gc_name;           // the kernel reads it until the unlink completes
  std::vector<AfterDurable> _after;  // a min-heap by (ticket, order)
  uint64_t _after_order = 0;
  std::vector<uint64_t> _copy_retry;  // copies whose records failed: again at the next tick
  int64_t _next_compact_ms = 0;

  // Content in memory (shard_loading.cc).
  struct SpoolRead {
    uint64_t handle = 0;  // 0: free
    uint32_t gen = 0;
    int fd = -1;
    uint64_t offset = 0;
    size_t done = 0;
    std::string buf;
  };
  struct HeldBody {
    uint64_t ticket;  // the writer may point into it until this one settles
    std::unique_ptr<proto::CompletedMessage> msg;
    uint64_t bytes;
  };
  uint64_t _body_bytes = 0;  // content held in memory (and reads in flight)
  std::deque<uint64_t> _load_queue;
  // A deque: the kernel writes into a read's buffer until it completes, so
  // adding a slot must never move the others.
  std::deque<SpoolRead> _reads;
  std::vector<uint32_t> _read_free;
  uint32_t _reads_in_flight = 0;
  std::vector<HeldBody> _held;

  // Delivery, origin side.
  EventLog _events;
  absl::flat_hash_map<uint64_t, std::unique_ptr<LiveMessage>> _live;
  uint64_t _next_handle = 1;
  // Deferred messages by next retry time (a min-heap).
  std::vector<std::pair<absl::Time, uint64_t>> _retry_heap;
  std::deque<std::pair<unsigned, ShardMessage>> _outbox;  // the mesh was full

  // Delivery, owner side.
  proto::ClientConfig _client_config;
  absl::flat_hash_map<std::string, std::unique_ptr<Destination>> _dests;
  std::deque<OutboundConn> _out;  // a deque: the kernel holds pointers into it
  std::vector<uint32_t> _out_free;
  uint64_t _out_open = 0;
  __kernel_timespec _connect_timeout{};
  std::unique_ptr<Resolver> _resolver;
  std::unique_ptr<TlsContext> _tls_client;
  bool _tls_client_failed = false;

  bool _stopping = false;
  int64_t _stop_deadline_ms = 0;
  int64_t _next_tick_ms = 0;
  ShardStats _stats;
};

int64_t monotonic_ms();
int64_t monotonic_us();

}  // namespace ringmta
