// tools/postfix/postfix_config.cc — the main.cf and master.cf readers
// (postfix_config.h); the mapping onto ringmta's TOML is postfix_mapping.cc.
#include "tools/postfix/postfix_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "tools/postfix/postfix_text.h"

namespace ringmta::postfix {

PostfixParams parse_main_cf(std::string_view text) {
  PostfixParams out;
  for (const std::string& line : logical_lines(text)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name(trim(std::string_view(line).substr(0, eq)));
    if (name.empty()) continue;
    out[name] = std::string(trim(std::string_view(line).substr(eq + 1)));
  }
  return out;
}

void expand_params(PostfixParams* p, const PostfixParams& defaults) {
  const auto lookup = [&](std::string_view name) -> const std::string* {
    if (auto it = p->find(name); it != p->end()) return &it->second;
    if (auto it = defaults.find(name); it != defaults.end()) return &it->second;
    return nullptr;
  };
  std::function<std::string(std::string_view, int)> expand = [&](std::string_view v, int depth) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '$' || i + 1 == v.size()) {
        out.push_back(v[i]);
        continue;
      }
      const size_t start = i + 1;
      std::string_view name;
      if (v[start] == '{' || v[start] == '(') {
        const size_t end = v.find(v[start] == '{' ? '}' : ')', start);
        if (end == std::string_view::npos) {
          out.append(v.substr(i));
          break;
        }
        // ${name?value} and ${name:value} are kept simple: the name only.
        name = v.substr(start + 1, end - start - 1);
        name = name.substr(0, name.find_first_of("?:"));
        i = end;
      } else {
        if (v[start] == '$') {  // "$$" is a literal "$"
          out.push_back('$');
          i = start;
          continue;
        }
        size_t end = start;
        while (end < v.size() && (absl::ascii_isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_')) ++end;
        if (end == start) {
          out.push_back('$');
          continue;
        }
        name = v.substr(start, end - start);
        i = end - 1;
      }
      if (const std::string* value = lookup(name); value != nullptr && depth < 20) {
        out.append(expand(*value, depth + 1));
      }
    }
    return out;
  };
  PostfixParams expanded;
  for (const auto& [k, v] : *p) expanded[k] = expand(v, 0);
  *p = std::move(expanded);
}

std::vector<MasterService> parse_master_cf(std::string_view text) {
  std::vector<MasterService> out;
  for (const std::string& line : logical_lines(text)) {
    const std::vector<std::string> f = fields(line);
    if (f.size() < 8) continue;
    MasterService s;
    s.name = f[0];
    s.type = f[1];
    s.command = f[7];
    for (size_t i = 8; i < f.size(); ++i) {
      std::string o;
      if (f[i] == "-o" && i + 1 < f.size()) {
        o = f[++i];
      } else if (absl::StartsWith(f[i], "-o")) {
        o = f[i].substr(2);
      }
      const size_t eq = o.find('=');
      if (eq != std::string::npos) s.overrides[o.substr(0, eq)] = o.substr(eq + 1);
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool parse_postfix_time(std::string_view text, char default_unit, int64_t* seconds) {
  text = trim(text);
  if (text.empty()) return false;
  char unit = default_unit;
  if (absl::ascii_isalpha(static_cast<unsigned char>(text.back()))) {
    unit = absl::ascii_tolower(static_cast<unsigned char>(text.back()));
    text.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!parse_uint(text, &n) || n > (uint64_t{1} << 32)) return false;
  int64_t mult = 0;
  switch (unit) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    case 'w':
      mult = 7 * 86400;
      break;
    default:
      return false;
  }
  *seconds = static_cast<int64_t>(n) * mult;
  return true;
}

}  // namespace ringmta::postfix
