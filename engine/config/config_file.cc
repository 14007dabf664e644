// engine/config/config_file.cc — loading the TOML settings file
// (config_file.h).
#include "engine/config/config_file.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/config/option_table.h"
#include "engine/config/toml_support.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::config_internal {

absl::Status load_config_file(Config& c, const std::string& path) {
  toml::parse_result res = toml::parse_file(path);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", path), res.error());
  }
  toml::table& root = res.table();
  // Unknown keys are errors: a misspelt key silently ignored is a setting
  // the operator believes is in force.
  for (auto& [table_name, node] : root) {
    if (table_name.str() == "dkim" || table_name.str() == "webhook") {
      continue;  // [[dkim]], [[webhook]]: arrays of tables with readers of their own (dkim_file.h, webhook_file.h)
    }
    toml::table* t = node.as_table();
    if (t == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("config ", path, ": '", av(std::string_view(table_name)),
                                                     "' must be a table such as [server]"));
    }
    for (auto& [key, value] : *t) {
      if ((table_name.str() == "shaping" && key.str() != "file") || table_name.str() == "egress") {
        continue;  // these tables have readers of their own (shaping_file.h, egress_file.h)
      }
      std::string full = absl::StrCat(av(std::string_view(table_name)), ".", av(std::string_view(key)));
      const Option* opt = find_key(full);
      std::string where = absl::StrCat("config ", path, ": ", full);
      if (opt == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key (see ringmta --help)"));
      }
      std::vector<std::string> vals;
      if (opt->kind == Kind::kList) {
        toml::array* arr = value.as_array();
        if (arr == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array of strings"));
        }
        for (auto& el : *arr) {
          if (!el.is_string()) {
            return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array of strings"));
          }
          vals.push_back(*el.value<std::string>());
        }
        if (opt->flag == std::string_view("listen")) {
          c.listen.clear();  // the file's list replaces the default
        }
      } else if (opt->kind == Kind::kUint) {
        if (!value.is_integer()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected a number"));
        }
        vals.push_back(std::to_string(*value.value<int64_t>()));
      } else {
        if (value.is_boolean()) {
          vals.push_back(*value.value<bool>() ? "true" : "false");
        } else if (value.is_string()) {
          vals.push_back(*value.value<std::string>());
        } else {
          return absl::InvalidArgumentError(absl::StrCat(where, ": expected a string"));
        }
      }
      absl::Status s = apply_option(c, *opt, vals, where);
      if (!s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ringmta::config_internal
