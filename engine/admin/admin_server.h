// engine/admin/admin_server.h — a shard's HTTP/1.1 admin listener: accept
// (multishot, on the shard's own SO_REUSEPORT socket, like SMTP), requests
// read with proto::HttpParser, keep-alive and pipelining (answers go out
// in request order: the next request is parsed only once the one before
// it is answered), access by network or bearer token, idle and stop
// timeouts, HTTPS with --admin-tls. What a request gets is AdminApi's
// business.
//
//   AdminServer admin(ctx, listen_fds, access, api);
//   admin.start();
//   ... api answers a request it held later: admin.respond(ref, response)
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/admin/admin_access.h"
#include "engine/admin/admin_api.h"
#include "engine/runtime/component.h"
#include "engine/runtime/slot_pool.h"
#include "engine/runtime/socket_io.h"
#include "engine/shard_context.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_session.h"
#include "proto/http_parse.h"

namespace ringmta {

class AdminServer : public Component {
 public:
  // tls: HTTPS with this context (--admin-tls); null for plain HTTP.
  AdminServer(const ShardContext& ctx, std::vector<int> listen_fds, const AdminAccess* access, AdminApi& api,
              TlsContext* tls);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();
  // respond answers the request AdminApi held (a no-op if its client left).
  void respond(AdminRequestRef ref, const AdminResponse& r);

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  void on_tick(int64_t now_ms) override;
  // poll / wait_bound_us: answers that wait for the suppression store's
  // writer are checked each loop, and the loop wakes every ms meanwhile.
  void poll() override { _api.poll(); }
  int64_t wait_bound_us(int64_t /*now_ms*/) const override { return _api.waiting_writes() ? 1000 : -1; }
  void begin_stop() override;
  bool drained() const override { return _conns.in_use() == 0; }

 private:
  struct Conn {
    SocketIo io;
    uint32_t gen = 0;
    std::unique_ptr<proto::HttpParser> parser;
    std::unique_ptr<TlsSession> tls;  // with --admin-tls
    std::string input;       // received, not yet parsed (pipelined requests wait here)
    std::string out;         // answers not yet handed to a send
    bool waiting = false;    // AdminApi holds the current request
    bool head = false;       // of the request being answered: no body
    bool overflowed = false; // pipelined too far past a waiting request: 429 after its answer
    bool keep_alive = true;  // of the request being answered
    bool closing = false;    // close once `out` is sent
    // Lingering close: the answer is sent and our side shut for writing;
    // what the client still sends is read and dropped until it closes (or
    // kLingerMs), so that unread input does not make the kernel reset the
    // connection before the client has read the answer (a 413 or 431 sent
    // while the body or header is still arriving).
    bool lingering = false;
    int64_t linger_until_ms = 0;
    bool shut = false;
    sockaddr_storage peer{};
    int64_t last_activity_ms = 0;
  };

  void arm_accept(uint32_t listener);
  void on_accept(uint32_t listener, io_uring_cqe* cqe);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  void serve(uint32_t slot);
  void answer(Conn& c, const AdminResponse& r, bool head);
  void flush(uint32_t slot);
  void on_send(uint32_t slot, io_uring_cqe* cqe);
  void shut(uint32_t slot);
  void linger(uint32_t slot);
  void maybe_release(uint32_t slot);

  const ShardContext& _ctx;
  std::vector<int> _listen_fds;
  const AdminAccess* const _access;  // null: everyone is allowed (tests of the server alone)
  TlsContext* const _tls;
  AdminApi& _api;
  proto::HttpLimits _limits;
  SlotPool<Conn> _conns;
};

}  // namespace ringmta
