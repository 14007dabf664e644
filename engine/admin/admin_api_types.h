// engine/admin/admin_api_types.h — what an admin API handler returns, and
// how a request that waits for its answer is named.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace ringmta
