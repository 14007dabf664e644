// engine/inbound/connection.h — one inbound SMTP connection as a shard sees it: the
// socket, the session state machine, and which ring operations are in
// flight for it. Owned by exactly one shard; never shared.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "engine/runtime/socket_io.h"
#include "engine/tls/tls_session.h"
#include "proto/server_session.h"

namespace ringmta {

struct Connection {
  // The socket. While a send is in flight the session keeps producing into
  // its own buffer, which is sent next (one send at a time keeps replies in
  // order).
  SocketIo io;
  uint32_t gen = 0;  // bumped on every reuse of the slot
  std::unique_ptr<proto::ServerSession> session;
  // TLS: from accept on an implicit-TLS listener, or after STARTTLS.
  std::unique_ptr<TlsSession> tls;
  size_t plain_pos = 0;       // how much of the session's output was encrypted
  std::string plain_out;      // the 220 to STARTTLS, still to go out in plaintext

  bool recv_paused = false;  // cancelled because pending_input is full
  // Bytes received while the session waits for a spool sync (a client that
  // pipelines past the end of a message). Bounded: recv pauses past a limit.
  std::string pending_input;

  // Timers (Shard::on_tick). Bytes alone never restart the idle timer: a
  // command must complete, or message data arrive at the minimum rate, so
  // that a client trickling a byte at a time is closed (slowloris).
  int64_t accepted_ms = 0;       // for the session time limit
  int64_t last_activity_ms = 0;  // last bytes received (idle inside a message)
  int64_t last_command_ms = 0;   // last command completed
  uint64_t commands_seen = 0;    // session->commands() when last looked at
  int64_t message_start_ms = 0;  // 0: not inside a message
  bool shut = false;  // shutdown(2) done; closes once nothing is in flight

  sockaddr_storage peer{};
  bool holds_ip_slot = false;  // counted in ClientLimits (release at close)

};

}  // namespace ringmta
