// engine/runtime/socket_io.h — the io_uring plumbing every connection needs, in
// one place: a multishot recv into the shard's buffer ring, one send in
// flight (short sends resumed), and a shutdown that makes the kernel let
// go of the socket.
//
//   SocketIo io{.fd = fd};
//   io.arm_recv(ring, group, encode(Op::kRecv, slot, gen));
//   io.sending.swap(bytes); io.start_send(ring, encode(Op::kSend, slot, gen));
//   on the send cqe:  switch (io.on_send(ring, res, same_user_data)) { ... }
//   io.shut(ring, recv_user_data);  ... then close once io.idle()
#pragma once

#include <cstdint>
#include <string>

#include "engine/runtime/ring.h"

namespace ringmta {

struct SocketIo {
  int fd = -1;
  std::string sending;  // the bytes of the send in flight; stable until it completes
  size_t sent = 0;
  bool send_in_flight = false;
  bool recv_armed = false;

  enum class SendState { kDone, kMore, kError };

  void arm_recv(Ring& ring, uint16_t buffer_group, uint64_t user_data);
  // start_send sends `sending` from the beginning.
  void start_send(Ring& ring, uint64_t user_data);
  // on_send takes a send's result: kMore when the rest was resubmitted
  // (the socket buffer was full), kDone when everything went (`sending` is
  // cleared), kError when the socket failed.
  SendState on_send(Ring& ring, int res, uint64_t user_data);
  // shut: shutdown(2), which completes the outstanding multishot recv, and
  // a cancel to make sure of it.
  void shut(Ring& ring, uint64_t recv_user_data);
  bool idle() const { return !send_in_flight && !recv_armed; }
  // release closes the socket and frees the buffers.
  void release();
};

}  // namespace ringmta
