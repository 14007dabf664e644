// engine/connection.h — one inbound SMTP connection as a shard sees it: the
// socket, the session state machine, and which ring operations are in
// flight for it. Owned by exactly one shard; never shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/socket_io.h"
#include "engine/tls_session.h"
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

  int64_t last_activity_ms = 0;
  bool shut = false;  // shutdown(2) done; closes once nothing is in flight

};

}  // namespace ringmta
