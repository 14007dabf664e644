// engine/dkim/signing.cc — a shard's signing stage (signing.h).
#include "engine/dkim/signing.h"

#include <liburing.h>

#include "engine/runtime/ring.h"
#include "engine/runtime/user_data.h"

namespace ringmta {

void Signing::start() {
  if (_service != nullptr) {
    arm_read();
  }
}

void Signing::arm_read() {
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_read(sqe, _service->ready_fd(_ctx.id), &_ready_count, sizeof _ready_count, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kSign));
}

void Signing::submit(std::unique_ptr<proto::CompletedMessage> m, uint32_t slot, uint32_t gen) {
  if (_service == nullptr) {
    _store.append_message(std::move(m), slot, gen);
    return;
  }
  SigningJob job{std::move(m), slot, gen};
  if (_waiting.empty() && _service->submit(_ctx.id, job)) {
    ++_in_flight;
    return;
  }
  _waiting.push_back(std::move(job));  // order kept: poll() retries the oldest first
}

void Signing::poll() {
  if (_service == nullptr) {
    return;
  }
  while (!_waiting.empty() && _service->submit(_ctx.id, _waiting.front())) {
    _waiting.pop_front();
    ++_in_flight;
  }
  _service->flush(_ctx.id);  // what this iteration submitted, in one wake-up per thread
}

void Signing::on_completion(const UserData&, io_uring_cqe*) {
  while (std::optional<SigningJob> r = _service->take(_ctx.id)) {
    --_in_flight;
    if (r->ok) {
      _store.append_message(std::move(r->message), r->slot, r->gen);
    } else {
      _hooks.failed(r->slot, r->gen);  // the session answers 451: nothing was stored
    }
  }
  arm_read();  // the eventfd stays armed for the shard's life, like the auth one
}

}  // namespace ringmta
