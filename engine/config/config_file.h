// engine/config/config_file.h — the TOML settings file (--config): each
// [table] key = value is applied through the option table, so a key in the
// file and its flag take the same values and give the same errors.
// Internal to engine/config.
//
//   absl::Status s = load_config_file(config, "/etc/ringmta.toml");
#pragma once

#include <string>

#include "absl/status/status.h"
#include "engine/config/config.h"

namespace ringmta::config_internal {

// load_config_file applies every key of the TOML file at path to c. A syntax
// error names the line and column; an unknown key or a value of the wrong
// type names the key.
absl::Status load_config_file(Config& c, const std::string& path);

}  // namespace ringmta::config_internal
