// engine/config/option_table.h — the table of settings: one entry per
// setting, with its flag, its TOML key, its default and help text, and how
// a value is checked and stored. The TOML loader (config_file.cc), the flag
// parser (config.cc) and --help (help_text.cc) all read this one table, so
// a setting is added in one place. Internal to engine/config.
//
//   const Option* o = find_flag("max-recipients");
//   absl::Status s = apply_option(config, *o, {"500"}, "--max-recipients");
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/config/config.h"

namespace ringmta::config_internal {

// Kind says how a value is written: a list is comma-separated on the
// command line and an array of strings in TOML.
enum class Kind { kString, kUint, kList };

struct Option {
  const char* flag;      // without the leading "--"
  const char* key;       // TOML "table.key"
  Kind kind;
  const char* def;       // default as shown in --help
  const char* help;
  std::function<absl::Status(Config&, const std::vector<std::string>&)> set;
};

// options is the table, in --help order.
const std::vector<Option>& options();

// find_flag and find_key look an option up by its flag (no "--") or its
// TOML "table.key"; null when there is none.
const Option* find_flag(std::string_view flag);
const Option* find_key(std::string_view key);

// policy_options: the suppression list's, feedback's and the sending
// policy's entries (option_list_policy.cc), which options() ends with.
std::vector<Option> policy_options();
// submit_options: local submission's (option_list_submit.cc), after them.
std::vector<Option> submit_options();

// set_uint / set_bool: one value checked and stored, for the entries' set.
absl::Status set_uint(uint64_t* out, const std::vector<std::string>& v, uint64_t min, uint64_t max);
absl::Status set_bool(bool* out, const std::vector<std::string>& v);

// split_list cuts a command-line list at commas, dropping blanks.
std::vector<std::string> split_list(std::string_view v);

// apply_option stores values through o; an error names where (the flag,
// or the file and key) so that the operator knows which setting is wrong.
absl::Status apply_option(Config& c, const Option& o, const std::vector<std::string>& values,
                          std::string_view where);

}  // namespace ringmta::config_internal
