// engine/admin/admin_api.h — what the admin API answers: the routes, each
// a method and a path, and their handlers. The HTTP connection around it
// is admin_server.h's.
//
//   AdminApi api(ctx, board);
//   std::optional<AdminResponse> r = api.handle(request, ref);
//   // nullopt: answered later through the respond hook (an injection
//   // waits for its spool batch)
//
// Routes (README "Admin API" has each with a curl example):
//   GET  /metrics            Prometheus text format 0.0.4
//   GET  /api/v1/health      {"status":"ok","shard":N}
//   POST /api/v1/inject      messages from JSON (injection.h)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/admin/admin_api_types.h"
#include "engine/admin/injection.h"
#include "engine/observe/metrics.h"
#include "engine/shard_context.h"
#include "proto/http_parse.h"

namespace ringmta {

class AdminApi {
 public:
  // respond: how a request answered later reaches its connection
  // (AdminServer::respond).
  AdminApi(const ShardContext& ctx, const MetricsBoard* board, Signing& signing, Store& store,
           Injection::Respond respond)
      : _ctx(ctx), _board(board), _injection(ctx, signing, store, std::move(respond)) {}

  // handle: client_addr is the peer's address as text (for Received:).
  std::optional<AdminResponse> handle(const proto::HttpMessage& req, AdminRequestRef ref,
                                      std::string_view client_addr);
  Injection& injection() { return _injection; }

 private:
  AdminResponse metrics() const;
  uint64_t spool_bytes() const;

  const ShardContext& _ctx;
  const MetricsBoard* const _board;
  Injection _injection;
};

}  // namespace ringmta
