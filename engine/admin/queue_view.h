// engine/admin/queue_view.h — `GET /api/v1/queues`: the shards' site rows
// (owners) and domain rows (origins) joined into one line per queue.
//
// A site line counts what is queued or being sent there, plus what waits
// on the origins for the domains it serves; a domain whose mail waits but
// that no site queue serves at the moment (all of it deferred, or
// suspended) is a line of its own. An operator's suspension or hold shows
// as the state of the lines it covers. Sorted by messages, most first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/admin/admin_call.h"

namespace ringmta {

std::string render_queues(const std::vector<AdminCallPtr>& replies, const std::vector<AdminBlock>& blocks,
                          int64_t now_s);

// render_blocks: `GET /api/v1/suspensions`.
std::string render_blocks(const std::vector<AdminBlock>& blocks);

}  // namespace ringmta
