#include "engine/runtime/socket_io.h"

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/runtime/user_data.h"

namespace ringmta {

void SocketIo::arm_recv(Ring& ring, uint16_t buffer_group, uint64_t user_data) {
  io_uring_sqe* sqe = ring.sqe();
  // Multishot recv with buffer selection: the kernel picks a buffer from the
  // shard's ring per completion, so a waiting connection pins no memory.
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, user_data);
  recv_armed = true;
}

void SocketIo::start_send(Ring& ring, uint64_t user_data) {
  sent = 0;
  io_uring_sqe* sqe = ring.sqe();
  io_uring_prep_send(sqe, fd, sending.data(), sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, user_data);
  send_in_flight = true;
}

SocketIo::SendState SocketIo::on_send(Ring& ring, int res, uint64_t user_data) {
  send_in_flight = false;
  if (res < 0) {
    return SendState::kError;
  }
  sent += static_cast<size_t>(res);
  if (sent < sending.size()) {
    io_uring_sqe* sqe = ring.sqe();
    io_uring_prep_send(sqe, fd, sending.data() + sent, sending.size() - sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, user_data);
    send_in_flight = true;
    return SendState::kMore;
  }
  sending.clear();
  return SendState::kDone;
}

void SocketIo::shut(Ring& ring, uint64_t recv_user_data) {
  if (fd < 0) {
    return;
  }
  ::shutdown(fd, SHUT_RDWR);
  if (recv_armed) {
    io_uring_sqe* sqe = ring.sqe();
    io_uring_prep_cancel64(sqe, recv_user_data, 0);
    io_uring_sqe_set_data64(sqe, encode(Op::kCancel));
  }
}

void SocketIo::release() {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
  sending = std::string();
  sent = 0;
}

}  // namespace ringmta
