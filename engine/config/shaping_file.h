// engine/config/shaping_file.h — reading the shaping tables ([shaping.default],
// [shaping.domain."D"], [shaping.domain."D".source."S"]) from the config
// file, or from the file `shaping.file` names, which holds the same tables
// and is read again on SIGHUP.
//
//   absl::StatusOr<Shaping> s = load_shaping(config_file, shaping_file);
//
// Every error names the file, the key and what is wrong with its value;
// unknown keys are errors (a misspelt limit silently ignored is a limit the
// operator believes is in force).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/outbound/shaping.h"

namespace ringmta {

// load_shaping reads the shaping tables of config_file ("" = none) and of
// shaping_file ("" = none). Only one of them may hold tables.
absl::StatusOr<Shaping> load_shaping(const std::string& config_file, const std::string& shaping_file);

}  // namespace ringmta
