// tools/postfix/postfix_text.cc — Postfix's text rules (postfix_text.h).
#include "tools/postfix/postfix_text.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::postfix {

std::string_view trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string> logical_lines(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view line_a : absl::StrSplit(av(text), '\n')) {
    std::string_view line = sv(line_a);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (absl::ascii_isspace(static_cast<unsigned char>(line.front())) && !out.empty()) {
      absl::StrAppend(&out.back(), " ", av(t));
    } else {
      out.emplace_back(t);
    }
  }
  return out;
}

std::vector<std::string> words(std::string_view v) {
  std::vector<std::string> out;
  for (absl::string_view w_a : absl::StrSplit(av(v), absl::ByAnyChar(", \t\n"), absl::SkipEmpty())) {
    std::string_view w = sv(w_a);
    out.emplace_back(w);
  }
  return out;
}

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  for (absl::string_view w : absl::StrSplit(av(line), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    out.emplace_back(sv(w));
  }
  return out;
}

bool parse_uint(std::string_view s, uint64_t* out) {
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string host_port(std::string_view hop, uint64_t default_port, bool* mx) {
  hop = trim(hop);
  std::string host;
  std::string port = std::to_string(default_port);
  *mx = true;
  if (absl::StartsWith(av(hop), "inet:")) hop.remove_prefix(5);
  if (!hop.empty() && hop.front() == '[') {
    *mx = false;
    const size_t close = hop.find(']');
    if (close == std::string_view::npos) return "";
    host = std::string(hop.substr(1, close - 1));
    if (absl::StartsWith(av(host), "ipv6:") || absl::StartsWith(av(host), "IPv6:")) host = host.substr(5);
    std::string_view rest = hop.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') port = std::string(rest.substr(1));
  } else {
    const size_t colon = hop.rfind(':');
    host = std::string(hop.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(hop.substr(colon + 1));
  }
  if (port == "smtp") port = "25";
  if (port == "lmtp") port = "24";
  if (port == "submission") port = "587";
  uint64_t n = 0;
  if (host.empty() || !parse_uint(port, &n) || n == 0 || n > 65535) return "";
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", n);
  return absl::StrCat(host, ":", n);
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", c < 0x10 ? "0" : "", absl::Hex(static_cast<unsigned char>(c)));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string quote_list(const std::vector<std::string>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ", ", [](std::string* o, const std::string& s) { o->append(quote(s)); }),
                      "]");
}

}  // namespace ringmta::postfix
