// tools/postfix/postfix_text.h — the small text rules Postfix's files share
// (trimming, continuation lines, lists, numbers, next hops) and TOML
// quoting, for the readers (postfix_config.cc) and the mapping
// (postfix_mapping.cc). Internal to tools/postfix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::postfix {

std::string_view trim(std::string_view s);
// logical_lines: comment-free lines with their continuations joined.
std::vector<std::string> logical_lines(std::string_view text);
// words: a value split at commas and blanks (Postfix lists).
std::vector<std::string> words(std::string_view v);
// fields: a line split at blanks (master.cf, table source files).
std::vector<std::string> fields(std::string_view line);
bool parse_uint(std::string_view s, uint64_t* out);
// host_port: "[host]:port", "[host]", "host:port", "host" (Postfix next
// hops) as ringmta's "HOST:PORT" (IPv6 in brackets), "" when malformed;
// `mx` is set when the host was not in brackets (Postfix would look up its
// MX records).
std::string host_port(std::string_view hop, uint64_t default_port, bool* mx);
// quote, quote_list: TOML basic strings and arrays of them.
std::string quote(std::string_view s);
std::string quote_list(const std::vector<std::string>& v);

}  // namespace ringmta::postfix
