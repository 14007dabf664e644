// engine/config/dkim_file.h — reading the [[dkim]] tables of the config file
// and the private keys they name. Called by parse_config (as root, before
// the privilege drop) and again on SIGHUP. An error names the file, the
// entry and what is wrong; at start it makes ringmta exit 2.
//
//   absl::StatusOr<std::shared_ptr<const DkimSigners>> s = load_dkim(config_file);
//   // null when the file has no [[dkim]]
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/dkim/dkim_signers.h"

namespace ringmta {

absl::StatusOr<std::shared_ptr<const DkimSigners>> load_dkim(const std::string& config_file);

}  // namespace ringmta
