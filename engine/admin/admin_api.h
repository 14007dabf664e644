// engine/admin/admin_api.h — what the admin API answers: the routes, each
// a method and a path, and their handlers. The HTTP connection around it
// is admin_server.h's.
//
//   AdminApi api(ctx, board, state, signing, store, outbox, respond);
//   std::optional<AdminResponse> r = api.handle(request, ref, client_addr);
//   // nullopt: answered later through the respond hook (an injection
//   // waits for its spool batch; a queue question for every shard's part)
//
// Routes (README "Admin API" has each with a curl example):
//   GET  /metrics                     Prometheus text format 0.0.4
//   GET  /api/v1/health               {"status":"ok","shard":N}
//   POST /api/v1/inject               messages from JSON (injection.h)
//   GET  /api/v1/queues[?domain=D]    one line per queue (queue_view.h)
//   GET  /api/v1/messages/ID          one message's recipients and their state
//   POST /api/v1/flush[?domain=D]     deferred recipients are retried now
//   POST /api/v1/suspend?domain=D[&duration=1h][&reason=R], /api/v1/resume?domain=D
//   POST /api/v1/hold?domain=D[&reason=R], /api/v1/release?domain=D
//   GET  /api/v1/suspensions          the suspensions and holds in force
//   POST /api/v1/bounce?domain=D|queue_id=ID|sender=S|campaign=C[&reason=R][&dsn=false]
//   GET  /api/v1/suppressions[?reason=R][&tenant=T][&since=DATE][&after=POS][&limit=N]
//   GET  /api/v1/suppressions/ADDR[?tenant=T]   whether and why ADDR is suppressed
//   POST /api/v1/suppressions                   entries (suppression_json.h), answered once durable
//   DELETE /api/v1/suppressions/ADDR[?tenant=T]
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/admin/admin_api_types.h"
#include "engine/admin/admin_calls.h"
#include "engine/admin/admin_state.h"
#include "engine/admin/injection.h"
#include "engine/observe/metrics.h"
#include "engine/shard_context.h"
#include "engine/suppression/suppression.h"
#include "proto/http_parse.h"

namespace ringmta {

class AdminApi {
 public:
  // respond: how a request answered later reaches its connection
  // (AdminServer::respond).
  AdminApi(const ShardContext& ctx, const MetricsBoard* board, AdminState* state, Signing& signing, Store& store,
           MeshOutbox<ShardMessage>& outbox, Suppression* suppression, Injection::Respond respond)
      : _ctx(ctx),
        _board(board),
        _state(state),
        _suppression(suppression),
        _respond(respond),
        _injection(ctx, signing, store, suppression, std::move(respond)),
        _calls(ctx, outbox) {}

  // handle: client_addr is the peer's address as text (for Received:).
  std::optional<AdminResponse> handle(const proto::HttpMessage& req, AdminRequestRef ref,
                                      std::string_view client_addr);
  Injection& injection() { return _injection; }
  // poll answers the suppression writes that have become durable.
  void poll();
  bool waiting_writes() const { return !_writes.empty(); }
  AdminCalls& calls() { return _calls; }

 private:
  AdminResponse metrics() const;
  uint64_t spool_bytes() const;
  void ask(const AdminCall& call, AdminRequestRef ref, AdminCalls::Done done);
  std::optional<AdminResponse> queues(const proto::HttpMessage& req, AdminRequestRef ref);
  std::optional<AdminResponse> show(std::string_view id, AdminRequestRef ref);
  std::optional<AdminResponse> flush(const proto::HttpMessage& req, AdminRequestRef ref);
  std::optional<AdminResponse> bounce(const proto::HttpMessage& req, AdminRequestRef ref);
  std::optional<AdminResponse> block(const proto::HttpMessage& req, AdminRequestRef ref, bool hold, bool add);
  // The suppression list (suppression_api.cc).
  std::optional<AdminResponse> suppressions(const proto::HttpMessage& req, AdminRequestRef ref);
  AdminResponse list_suppressions(const proto::HttpMessage& req);
  AdminResponse check_suppression(const proto::HttpMessage& req, std::string_view address);
  std::optional<AdminResponse> write_suppressions(std::vector<SuppressionChange> changes, AdminRequestRef ref,
                                                  std::string answer);

  const ShardContext& _ctx;
  const MetricsBoard* const _board;
  AdminState* const _state;  // null: no suspensions or holds (tests of the server alone)
  Suppression* const _suppression;  // null: suppression is off
  // Suppression writes waiting to be durable, oldest first: the answer
  // goes out once the store's writer has committed the ticket.
  struct PendingWrite {
    uint64_t ticket;
    AdminRequestRef ref;
    std::string answer;
  };
  std::vector<PendingWrite> _writes;
  Injection::Respond _respond;
  Injection _injection;
  AdminCalls _calls;
};

}  // namespace ringmta
