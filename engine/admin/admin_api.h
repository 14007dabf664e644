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
//   GET  /api/v1/health      {"status":"ok","shards":N}
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/observe/metrics.h"
#include "engine/shard_context.h"
#include "proto/http_parse.h"

namespace ringmta {

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// AdminRequestRef names a request that waits for its answer: the
// connection (slot, generation) it came on.
struct AdminRequestRef {
  uint32_t slot = 0;
  uint32_t gen = 0;
};

// json_error: {"error": message} with status.
AdminResponse json_error(int status, std::string_view message);

class AdminApi {
 public:
  AdminApi(const ShardContext& ctx, const MetricsBoard* board) : _ctx(ctx), _board(board) {}

  std::optional<AdminResponse> handle(const proto::HttpMessage& req, AdminRequestRef ref);

 private:
  AdminResponse metrics() const;
  uint64_t spool_bytes() const;

  const ShardContext& _ctx;
  const MetricsBoard* const _board;
};

}  // namespace ringmta
