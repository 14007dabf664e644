// engine/store/content_loader.h — message content in memory, under a budget.
//
// A message keeps its content in memory only while something needs it: an
// attempt in flight, or a copy being written forward. A new message keeps
// the content it arrived with for its first attempt if the shard's budget
// (--memory-budget: the content of every message held plus reads in
// flight) allows; otherwise, and whenever it is deferred, it keeps only
// its metadata (engine/delivery/live_message.h) and its record is read back
// when its turn comes: an IORING_OP_READ on the segment's fd, on this
// shard's ring (never a blocking read here), checked by the record's CRC
// and its queue id before use.
//
// Reads wait in a FIFO queue while the budget is spent, so a backlog (a
// restart with a big spool, a slow destination) holds at most about the
// budget in memory; one message is always allowed, however big.
//
//   loader.request_load(handle);   // ... hooks.loaded(handle) or hooks.failed(handle)
//   loader.drop_body(lm);          // metadata-only again
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/delivery/message_table.h"
#include "engine/runtime/component.h"
#include "engine/runtime/slot_pool.h"
#include "engine/shard_context.h"
#include "engine/store/segments.h"
#include "engine/store/store.h"

namespace ringmta {

struct LoaderStats {
  uint64_t loads = 0;           // records read back (deferred, adopted, over the budget)
  uint64_t load_failures = 0;
  uint64_t peak_body_bytes = 0; // most content held in memory at once
};

class ContentLoader : public Component {
 public:
  struct Hooks {
    std::function<void(uint64_t handle)> loaded;  // lm.msg is there now
    std::function<void(uint64_t handle)> failed;  // it stays metadata-only
  };
  ContentLoader(const ShardContext& ctx, MessageTable& table, const Segments& segments, const Store& store)
      : _ctx(ctx), _table(table), _segments(segments), _store(store) {}
  void set_hooks(Hooks hooks) { _hooks = std::move(hooks); }

  // fits: a new message of `bytes` may keep its content within the budget.
  uint64_t body_bytes() const { return _body_bytes; }
  bool fits(uint64_t bytes) const { return _body_bytes + bytes <= _ctx.config.memory_budget; }
  // hold / forget count content kept in memory outside a read.
  void hold(uint64_t bytes);
  void forget(uint64_t bytes) { _body_bytes -= bytes; }
  // request_load queues a read of the message's record (once).
  void request_load(uint64_t handle);
  // drop_body makes a message metadata-only. If a copy of it was appended
  // and may still be unwritten, the writer points into the content: it is
  // held until that record settles, and counted until then.
  void drop_body(LiveMessage& lm);
  // release_held frees content held for records up to `through`.
  void release_held(uint64_t through);

  const LoaderStats& stats() const { return _stats; }
  void poll() override;  // starts reads while the budget allows
  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  bool drained() const override { return _in_flight == 0; }

 private:
  struct Read {
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
  bool budget_allows(uint64_t bytes) const;
  void submit_read(uint32_t slot);
  void on_read(uint32_t slot, uint32_t gen, int res);
  absl::Status take_loaded(LiveMessage& lm, std::string record);
  void load_failed(uint64_t handle, const absl::Status& why);

  const ShardContext& _ctx;
  MessageTable& _table;
  const Segments& _segments;
  const Store& _store;
  Hooks _hooks;
  uint64_t _body_bytes = 0;  // content held in memory (and reads in flight)
  std::deque<uint64_t> _queue;
  // The kernel writes into a read's buffer until it completes: a SlotPool
  // never moves one.
  SlotPool<Read> _reads;
  uint32_t _in_flight = 0;
  std::vector<HeldBody> _held;
  LoaderStats _stats;
};

}  // namespace ringmta
