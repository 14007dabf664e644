// proto/message_parts.h — an injected message given as parts (the inject
// API's "content" object) rather than as RFC 5322 text: what
// inject_request.h parses into and mime_build.h builds from. Its own
// header so that mime_build (proto_lib, no simdjson) needs nothing of the
// parser.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ringmta::proto {

// MessageParts: each field may hold {{name}} variables (template.h) until
// it is rendered for a recipient.
struct MessageParts {
  std::string from;  // "News <news@example.com>" or "news@example.com"
  std::string subject;
  std::string text_body;  // "" when absent
  std::string html_body;  // "" when absent
  std::optional<std::string> reply_to;
  std::vector<std::pair<std::string, std::string>> headers;  // in given order
};

}  // namespace ringmta::proto
