// engine/config/egress_file.h — reading [egress.source."S"], [egress.pool."P"]
// and [egress] default_pool / pool_by_sender_domain from the config file
// (engine/outbound/egress.h). Every source address is bound once to check
// that this host can send from it; an error names the key.
//
//   absl::StatusOr<Egress> e = load_egress(config_file);
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/outbound/egress.h"

namespace ringmta {

absl::StatusOr<Egress> load_egress(const std::string& config_file);

}  // namespace ringmta
