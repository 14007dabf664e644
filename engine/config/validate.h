// engine/config/validate.h — the checks that span settings (TLS files that
// go together, AUTH that needs TLS, ...) and the defaults that depend on
// the machine (the host name), run once the file and the flags are in.
// Internal to engine/config.
//
//   absl::Status s = validate(config);   // last step of parse_config
#pragma once

#include "absl/status/status.h"
#include "engine/config/config.h"

namespace ringmta::config_internal {

// validate refuses a combination of settings that cannot work, naming the
// flags involved, and fills in the host name when none was given.
absl::Status validate(Config& c);

}  // namespace ringmta::config_internal
