// engine/dkim/signing.h — a shard's stage between its inbound sessions and
// its store: a finished message goes to the signing threads
// (signing_service.h) and, signed, on to the Store; without [[dkim]] keys
// it goes straight to the Store. Either way the session is answered when
// the Store says the message is durable, so a 250 still means "on disk",
// and the stored bytes are the signed bytes (a retry after a restart sends
// the same signature).
//
//   Signing signing(ctx, services.signing, store);
//   signing.set_hooks({failed});           // answer the session: 451
//   signing.start();                       // arm the read of the ready eventfd
//   signing.submit(std::move(msg), slot, gen);
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "engine/dkim/signing_service.h"
#include "engine/runtime/component.h"
#include "engine/shard_context.h"
#include "engine/store/store.h"
#include "proto/server_session.h"

namespace ringmta {

class Signing : public Component {
 public:
  struct Hooks {
    // failed: signing the message of session (slot, gen) failed; nothing
    // was stored.
    std::function<void(uint32_t slot, uint32_t gen)> failed;
  };

  // service: null when no [[dkim]] is configured.
  Signing(const ShardContext& ctx, SigningService* service, Store& store)
      : _ctx(ctx), _service(service), _store(store) {}
  void set_hooks(Hooks hooks) { _hooks = std::move(hooks); }
  void start();
  void submit(std::unique_ptr<proto::CompletedMessage> m, uint32_t slot, uint32_t gen);

  // poll hands over what waited for room in a lane, then flushes: the
  // threads are woken once per loop iteration, however many messages it
  // submitted.
  void poll() override;
  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  bool drained() const override { return _in_flight == 0 && _waiting.empty(); }

 private:
  void arm_read();

  const ShardContext& _ctx;
  SigningService* _service;
  Store& _store;
  Hooks _hooks;
  std::deque<SigningJob> _waiting;  // every lane was full (bounded by the sessions)
  size_t _in_flight = 0;            // with the signing threads
  uint64_t _ready_count = 0;        // read buffer for the ready eventfd
};

}  // namespace ringmta
