// engine/outbound/destination.h — delivery, owner side: one Destination per routing
// key (an MX domain, or a fixed [HOST:PORT]) on the shard that owns the key,
// with its queue of jobs and its pool of outbound connections.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/delivery/delivery_job.h"
#include "engine/runtime/socket_io.h"
#include "engine/tls/tls_session.h"
#include "proto/client_session.h"

namespace ringmta {

// Target is one address a connection may try, in order of preference.
struct Target {
  std::string host;  // MX host name, or the route's HOST:PORT
  sockaddr_storage addr{};
  socklen_t len = 0;
};

struct Destination {
  std::string key;
  Nexthop nexthop;
  std::deque<DeliveryJob> queue;
  std::vector<uint32_t> conns;  // outbound connection slots, open or opening
  std::vector<Target> targets;
  bool resolving = false;
  bool resolved = false;
  // Why there are no targets (resolved and empty), for the recipients.
  bool route_permanent = false;
  int route_code = 0;
  std::string route_status;
  std::string route_error;
  std::string last_error;  // the last connection failure, for deferrals
  // An opportunistic TLS handshake failed here: later connections go in
  // plaintext (RFC 7435: encryption when it works, delivery regardless).
  bool tls_broken = false;
};

struct OutboundConn {
  SocketIo io;
  uint32_t gen = 0;
  std::string dest_key;
  std::unique_ptr<proto::ClientSession> session;
  std::unique_ptr<TlsSession> tls;  // after STARTTLS
  std::optional<DeliveryJob> job;  // the transaction in progress
  size_t target = 0;               // index of the target being tried
  std::string host;
  std::string ip;
  bool connecting = false;
  bool shut = false;
  bool was_ready = false;  // the session got through greeting and EHLO
  bool tls_failed = false; // the TLS handshake on this connection failed
  size_t plain_pos = 0;  // with TLS: how much of the session's output was encrypted
  // Server bytes the session did not take yet: it stops after a result
  // until the next message is handed to it.
  std::string pending;
  int64_t deadline_ms = 0;   // the reply we wait for is late after this
  int64_t idle_since_ms = 0;
  uint32_t messages = 0;

  bool idle_ops() const { return !connecting && io.idle(); }
};

}  // namespace ringmta
