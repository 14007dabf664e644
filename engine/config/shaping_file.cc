// engine/config/shaping_file.cc — the shaping tables of a TOML file
// (shaping_file.h).
#include "engine/config/shaping_file.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/config/toml_support.h"
#include "engine/outbound/backoff_rules.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

absl::Status read_count(const toml::node& v, std::string_view where, uint64_t max, std::optional<uint64_t>* out) {
  std::optional<int64_t> n = v.value<int64_t>();
  if (!v.is_integer() || !n || *n < 1 || static_cast<uint64_t>(*n) > max) {
    return toml_key_error(where, absl::StrCat("expected a whole number from 1 to ", max));
  }
  *out = static_cast<uint64_t>(*n);
  return absl::OkStatus();
}

absl::Status read_rate(const toml::node& v, std::string_view where, std::optional<Rate>* out) {
  Rate r;
  std::optional<std::string> s = v.value<std::string>();
  if (!v.is_string() || !parse_rate(*s, &r)) {
    return toml_key_error(where, "expected a rate such as \"100/s\", \"20/min\", \"1000/h\", \"50000/day\" "
                      "or \"100/s,max_burst=10\"");
  }
  *out = r;
  return absl::OkStatus();
}

// read_params reads one table's limits; `extra` names keys the caller
// handles itself (mx_rollup, source), which are skipped here.
absl::Status read_params(const toml::table& t, const std::string& where, ShapingParams* p,
                         std::initializer_list<std::string_view> extra) {
  for (const auto& [k, v] : t) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    absl::Status s;
    if (key == "connection_limit") {
      s = read_count(v, at, 100000, &p->connection_limit);
    } else if (key == "max_connection_rate") {
      s = read_rate(v, at, &p->max_connection_rate);
    } else if (key == "max_message_rate") {
      s = read_rate(v, at, &p->max_message_rate);
    } else if (key == "max_deliveries_per_connection") {
      s = read_count(v, at, 1000000000, &p->max_deliveries_per_connection);
    } else if (key == "max_recipients_per_message") {
      s = read_count(v, at, 100000, &p->max_recipients_per_message);
    } else if (std::find(extra.begin(), extra.end(), key) == extra.end()) {
      s = toml_key_error(at, "unknown key (shaping tables take connection_limit, max_connection_rate, max_message_rate, "
                  "max_deliveries_per_connection, max_recipients_per_message; see README \"Traffic shaping\")");
    }
    if (!s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status read_domain(const toml::table& t, const std::string& where, DomainRule* rule) {
  absl::Status s = read_params(t, where, &rule->params, {"mx_rollup", "source"});
  if (!s.ok()) {
    return s;
  }
  if (const toml::node* m = t.get("mx_rollup")) {
    if (!m->is_boolean()) {
      return toml_key_error(absl::StrCat(where, ".mx_rollup"), "expected true or false");
    }
    rule->mx_rollup = *m->value<bool>();
  }
  if (const toml::node* src = t.get("source")) {
    const toml::table* sources = src->as_table();
    if (sources == nullptr) {
      return toml_key_error(absl::StrCat(where, ".source"), "expected tables such as [shaping.domain.\"D\".source.\"ip-1\"]");
    }
    for (const auto& [name, node] : *sources) {
      const std::string at = absl::StrCat(where, ".source.\"", av(name.str()), "\"");
      const toml::table* st = node.as_table();
      if (st == nullptr) {
        return toml_key_error(at, "expected a table");
      }
      s = read_params(*st, at, &rule->sources[std::string(name.str())], {});
      if (!s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status read_string(const toml::node& v, std::string_view where, std::string* out) {
  std::optional<std::string> s = v.value<std::string>();
  if (!v.is_string() || s->empty()) {
    return toml_key_error(where, "expected a non-empty string");
  }
  *out = *s;
  return absl::OkStatus();
}

// read_rule reads one [[shaping.rule]].
absl::Status read_rule(const toml::table& t, const std::string& where, BackoffRule* rule) {
  bool has_action = false;
  for (const auto& [k, v] : t) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    absl::Status s;
    if (key == "regex") {
      if (v.is_string()) {
        rule->regex.push_back(*v.value<std::string>());
      } else if (const toml::array* arr = v.as_array()) {
        for (const toml::node& el : *arr) {
          if (!el.is_string()) {
            return toml_key_error(at, "expected a string or an array of strings");
          }
          rule->regex.push_back(*el.value<std::string>());
        }
      } else {
        return toml_key_error(at, "expected a string or an array of strings");
      }
    } else if (key == "action") {
      std::optional<std::string> a = v.value<std::string>();
      if (!v.is_string() || (*a != "suspend" && *a != "throttle" && *a != "bounce")) {
        return toml_key_error(at, "expected \"suspend\", \"throttle\" or \"bounce\"");
      }
      rule->action = *a == "suspend" ? BackoffAction::kSuspend
                     : *a == "throttle" ? BackoffAction::kThrottle
                                        : BackoffAction::kBounce;
      has_action = true;
    } else if (key == "duration") {
      std::optional<std::string> d = v.value<std::string>();
      if (!v.is_string() || !parse_duration(*d, &rule->duration_ms)) {
        return toml_key_error(at, "expected a duration such as \"30m\", \"90s\", \"2h\" (at most 30 days)");
      }
    } else if (key == "max_message_rate") {
      s = read_rate(v, at, &rule->throttle.max_message_rate);
    } else if (key == "connection_limit") {
      s = read_count(v, at, 100000, &rule->throttle.connection_limit);
    } else if (key == "domain") {
      s = read_string(v, at, &rule->domain);
      rule->domain = absl::AsciiStrToLower(rule->domain);
    } else if (key == "tenant") {
      s = read_string(v, at, &rule->tenant);
    } else if (key == "trigger") {
      std::optional<Rate> r;
      s = read_rate(v, at, &r);
      rule->trigger = r;
    } else if (key == "match_internal") {
      if (!v.is_boolean()) {
        return toml_key_error(at, "expected true or false");
      }
      rule->match_internal = *v.value<bool>();
    } else {
      s = toml_key_error(at, "unknown key (a rule takes regex, action, duration, max_message_rate, connection_limit, "
                  "domain, tenant, trigger, match_internal)");
    }
    if (!s.ok()) {
      return s;
    }
  }
  if (rule->regex.empty()) {
    return toml_key_error(where, "needs regex = '...' or regex = ['...', ...]");
  }
  if (!has_action) {
    return toml_key_error(where, "needs action = \"suspend\", \"throttle\" or \"bounce\"");
  }
  if (rule->duration_ms == 0 && rule->action != BackoffAction::kBounce) {
    return toml_key_error(where, "needs duration = \"...\" (how long the action lasts)");
  }
  if (rule->action == BackoffAction::kThrottle && !rule->throttle.max_message_rate &&
      !rule->throttle.connection_limit) {
    return toml_key_error(where, "a throttle needs max_message_rate or connection_limit (the limits while it lasts)");
  }
  if (rule->action != BackoffAction::kThrottle &&
      (rule->throttle.max_message_rate || rule->throttle.connection_limit)) {
    return toml_key_error(where, "max_message_rate and connection_limit belong to action = \"throttle\"");
  }
  if (!rule->tenant.empty() && rule->action != BackoffAction::kSuspend) {
    return toml_key_error(absl::StrCat(where, ".tenant"), "only a suspend rule may target a tenant");
  }
  return absl::OkStatus();
}

// read_tables reads the [shaping] table of one file; *found says whether it
// held any shaping table (not just `file`).
absl::Status read_tables(const toml::table& shaping, const std::string& where, Shaping* out,
                         std::vector<BackoffRule>* rules, bool* found) {
  for (const auto& [k, v] : shaping) {
    const std::string_view key = k.str();
    const std::string at = absl::StrCat(where, ".", av(key));
    if (key == "file") {
      continue;  // an option (config/option_table.cc)
    }
    *found = true;
    if (key == "default") {
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        return toml_key_error(at, "expected a table [shaping.default]");
      }
      absl::Status s = read_params(*t, at, &out->defaults, {});
      if (!s.ok()) {
        return s;
      }
    } else if (key == "domain") {
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        return toml_key_error(at, "expected tables such as [shaping.domain.\"example.com\"]");
      }
      for (const auto& [name, node] : *t) {
        std::string domain = absl::AsciiStrToLower(av(name.str()));
        const std::string dat = absl::StrCat(at, ".\"", domain, "\"");
        if (domain.empty() || domain.size() > 255 || domain.find_first_of(" \t@[]/") != std::string::npos) {
          return toml_key_error(dat, "expected a domain name");
        }
        const toml::table* dt = node.as_table();
        if (dt == nullptr) {
          return toml_key_error(dat, "expected a table");
        }
        absl::Status s = read_domain(*dt, dat, &out->domains[domain]);
        if (!s.ok()) {
          return s;
        }
      }
    } else if (key == "rule") {
      const toml::array* arr = v.as_array();
      if (arr == nullptr) {
        return toml_key_error(at, "expected [[shaping.rule]] tables");
      }
      for (const toml::node& node : *arr) {
        const toml::table* rt = node.as_table();
        const size_t n = rules->size() + 1;
        const std::string rat = absl::StrCat(where, ".rule[", n, "]");
        if (rt == nullptr) {
          return toml_key_error(rat, "expected a table");
        }
        BackoffRule rule;
        rule.name = absl::StrCat("rule ", n);
        absl::Status s = read_rule(*rt, rat, &rule);
        if (!s.ok()) {
          return s;
        }
        rules->push_back(std::move(rule));
      }
    } else {
      return toml_key_error(at, "unknown key (the shaping tables are [shaping.default], [shaping.domain.\"D\"] and "
                     "[[shaping.rule]]; see README \"Traffic shaping\")");
    }
  }
  return absl::OkStatus();
}

absl::Status read_file(const std::string& path, Shaping* out, std::vector<BackoffRule>* rules, bool* found) {
  toml::parse_result res = toml::parse_file(path);
  if (!res) {
    return toml_parse_error(absl::StrCat("config ", path), res.error());
  }
  const toml::node* shaping = res.table().get("shaping");
  if (shaping == nullptr) {
    return absl::OkStatus();
  }
  const toml::table* t = shaping->as_table();
  if (t == nullptr) {
    return toml_key_error(absl::StrCat("config ", path, ": shaping"), "must be a table such as [shaping.default]");
  }
  absl::Status s = read_tables(*t, absl::StrCat("config ", path, ": shaping"), out, rules, found);
  if (s.ok() && !rules->empty()) {
    absl::StatusOr<std::shared_ptr<const BackoffRules>> built = BackoffRules::build(std::move(*rules));
    if (!built.ok()) {
      return toml_key_error(absl::StrCat("config ", path, ": shaping"), sv(built.status().message()));
    }
    out->rules = std::move(*built);
  }
  return s;
}

}  // namespace

absl::StatusOr<Shaping> load_shaping(const std::string& config_file, const std::string& shaping_file) {
  Shaping out;
  bool in_config = false;
  if (!config_file.empty()) {
    std::vector<BackoffRule> rules;
    absl::Status s = read_file(config_file, &out, &rules, &in_config);
    if (!s.ok()) {
      return s;
    }
  }
  if (!shaping_file.empty()) {
    if (in_config) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config ", config_file, ": shaping tables are here and shaping.file names ", shaping_file,
          ": keep them in one place"));
    }
    bool in_file = false;
    std::vector<BackoffRule> rules;
    absl::Status s = read_file(shaping_file, &out, &rules, &in_file);
    if (!s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace ringmta
