// engine/config/shaping_file.cc — the shaping tables of a TOML file
// (shaping_file.h).
#include "engine/config/shaping_file.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

// As in config_file.cc: the error-returning API, header-only.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

namespace ringmta {
namespace {

absl::Status bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(av(where), ": ", av(what)));
}

absl::Status read_count(const toml::node& v, std::string_view where, uint64_t max, std::optional<uint64_t>* out) {
  std::optional<int64_t> n = v.value<int64_t>();
  if (!v.is_integer() || !n || *n < 1 || static_cast<uint64_t>(*n) > max) {
    return bad(where, absl::StrCat("expected a whole number from 1 to ", max));
  }
  *out = static_cast<uint64_t>(*n);
  return absl::OkStatus();
}

absl::Status read_rate(const toml::node& v, std::string_view where, std::optional<Rate>* out) {
  Rate r;
  std::optional<std::string> s = v.value<std::string>();
  if (!v.is_string() || !parse_rate(*s, &r)) {
    return bad(where, "expected a rate such as \"100/s\", \"20/min\", \"1000/h\", \"50000/day\" "
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
      s = bad(at, "unknown key (shaping tables take connection_limit, max_connection_rate, max_message_rate, "
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
      return bad(absl::StrCat(where, ".mx_rollup"), "expected true or false");
    }
    rule->mx_rollup = *m->value<bool>();
  }
  if (const toml::node* src = t.get("source")) {
    const toml::table* sources = src->as_table();
    if (sources == nullptr) {
      return bad(absl::StrCat(where, ".source"), "expected tables such as [shaping.domain.\"D\".source.\"ip-1\"]");
    }
    for (const auto& [name, node] : *sources) {
      const std::string at = absl::StrCat(where, ".source.\"", av(name.str()), "\"");
      const toml::table* st = node.as_table();
      if (st == nullptr) {
        return bad(at, "expected a table");
      }
      s = read_params(*st, at, &rule->sources[std::string(name.str())], {});
      if (!s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

// read_tables reads the [shaping] table of one file; *found says whether it
// held any shaping table (not just `file`).
absl::Status read_tables(const toml::table& shaping, const std::string& where, Shaping* out, bool* found) {
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
        return bad(at, "expected a table [shaping.default]");
      }
      absl::Status s = read_params(*t, at, &out->defaults, {});
      if (!s.ok()) {
        return s;
      }
    } else if (key == "domain") {
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        return bad(at, "expected tables such as [shaping.domain.\"example.com\"]");
      }
      for (const auto& [name, node] : *t) {
        std::string domain = absl::AsciiStrToLower(av(name.str()));
        const std::string dat = absl::StrCat(at, ".\"", domain, "\"");
        if (domain.empty() || domain.size() > 255 || domain.find_first_of(" \t@[]/") != std::string::npos) {
          return bad(dat, "expected a domain name");
        }
        const toml::table* dt = node.as_table();
        if (dt == nullptr) {
          return bad(dat, "expected a table");
        }
        absl::Status s = read_domain(*dt, dat, &out->domains[domain]);
        if (!s.ok()) {
          return s;
        }
      }
    } else {
      return bad(at, "unknown key (the shaping tables are [shaping.default], [shaping.domain.\"D\"] and "
                     "[[shaping.rule]]; see README \"Traffic shaping\")");
    }
  }
  return absl::OkStatus();
}

absl::Status read_file(const std::string& path, Shaping* out, bool* found) {
  toml::parse_result res = toml::parse_file(path);
  if (!res) {
    const toml::parse_error& e = res.error();
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ":", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   av(std::string_view(e.description()))));
  }
  const toml::node* shaping = res.table().get("shaping");
  if (shaping == nullptr) {
    return absl::OkStatus();
  }
  const toml::table* t = shaping->as_table();
  if (t == nullptr) {
    return bad(absl::StrCat("config ", path, ": shaping"), "must be a table such as [shaping.default]");
  }
  return read_tables(*t, absl::StrCat("config ", path, ": shaping"), out, found);
}

}  // namespace

absl::StatusOr<Shaping> load_shaping(const std::string& config_file, const std::string& shaping_file) {
  Shaping out;
  bool in_config = false;
  if (!config_file.empty()) {
    absl::Status s = read_file(config_file, &out, &in_config);
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
    absl::Status s = read_file(shaping_file, &out, &in_file);
    if (!s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace ringmta
