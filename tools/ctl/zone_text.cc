// tools/ctl/zone_text.cc — TXT records for zone files (zone_text.h).
#include "tools/ctl/zone_text.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

void cut(std::string_view s, std::vector<std::string>* out) {
  while (!s.empty()) {
    const size_t n = std::min(s.size(), kTxtStringMax);
    out->emplace_back(s.substr(0, n));
    s.remove_prefix(n);
  }
}

std::string fqdn(std::string_view name) {
  return !name.empty() && name.back() == '.' ? std::string(name) : absl::StrCat(av(name), ".");
}

// key_start: where a "p=" tag starts (at a tag boundary), or npos.
size_t key_start(std::string_view v) {
  for (size_t at = v.find("p="); at != std::string_view::npos; at = v.find("p=", at + 1)) {
    if (at == 0 || v[at - 1] == ';' || v[at - 1] == ' ' || v[at - 1] == '\t') {
      return at;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string> txt_strings(std::string_view value) {
  std::vector<std::string> out;
  const size_t p = value.size() > kTxtStringMax ? key_start(value) : std::string_view::npos;
  if (p != std::string_view::npos && p > 0) {
    cut(value.substr(0, p), &out);
    value.remove_prefix(p);
  }
  cut(value, &out);
  if (out.empty()) {
    out.emplace_back();  // an empty TXT record is one empty string
  }
  return out;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string zone_txt_line(std::string_view name, std::string_view value) {
  std::string out = absl::StrCat(av(fqdn(name)), " IN TXT");
  for (const std::string& s : txt_strings(value)) {
    absl::StrAppend(&out, " ", quoted(s));
  }
  return out;
}

std::string zone_txt_block(std::string_view name, std::string_view value) {
  const std::vector<std::string> strings = txt_strings(value);
  std::string out = absl::StrCat(av(fqdn(name)), " IN TXT (");
  for (size_t i = 0; i < strings.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? " " : "\n    ", quoted(strings[i]));
  }
  return out + " )";
}

}  // namespace ringmta::ctl
