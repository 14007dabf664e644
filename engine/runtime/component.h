// engine/runtime/component.h — what a shard's reactor knows of each of its
// components (inbound, store, delivery, outbound, ...): nothing but these
// hooks. Seastar's reactor works the same way: the loop is a list of
// pollers, and a completion goes to the owner its user_data names.
//
// Every hook has a default that does nothing, so a component overrides only
// what it uses. All of them run on the shard's own thread.
#pragma once

#include <cstdint>

#include "engine/runtime/user_data.h"

struct io_uring_cqe;

namespace ringmta {

class Component {
 public:
  // on_completion: a completion of an operation this component submitted
  // (the shard routes it by ud.op; see engine/runtime/user_data.h).
  virtual void on_completion(const UserData& /*ud*/, io_uring_cqe* /*cqe*/) {}
  // poll runs once per loop iteration before the wait: start batched work
  // (a spool batch, reads, event-log writes).
  virtual void poll() {}
  // wait_bound_us: how long the loop may sleep for this component's sake;
  // -1 for no bound of its own.
  virtual int64_t wait_bound_us(int64_t /*now_ms*/) const { return -1; }
  // after_wait runs once per iteration after the completions (due timers
  // finer than the tick).
  virtual void after_wait(int64_t /*now_ms*/) {}
  // on_tick: about once a second (timeouts, retries, retention).
  virtual void on_tick(int64_t /*now_ms*/) {}
  // begin_stop: the daemon is stopping (ShardContext::stopping is set).
  virtual void begin_stop() {}
  // drained: nothing of this component's is left in flight, so that the
  // ring may close once every component says so during a stop.
  virtual bool drained() const { return true; }

 protected:
  ~Component() = default;
};

}  // namespace ringmta
