// proto/inject_parser.h — inside inject_request.h's parser: the walker of
// one JSON document (simdjson On-Demand, error codes, no exceptions), and
// the small helpers its two files share. Not for other callers.
//
//   inject_content.cc  JSON values: strings, objects, substitutions, headers,
//                      and the message content (raw or parts)
//   inject_request.cc  the request: recipients, the top-level keys, the entry
//                      points parse_inject_request and check_email
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/inject_request.h"

namespace ringmta::proto::inject_internal {

namespace od = simdjson::ondemand;

#define INJECT_RETURN_IF_ERROR(expr)       \
  do {                                     \
    ::absl::Status inject_status_ = (expr); \
    if (!inject_status_.ok()) {            \
      return inject_status_;               \
    }                                      \
  } while (0)

// cat joins message parts. Not absl::StrCat: Debian's abseil has its own
// string_view, which std::string_view does not convert to.
inline void append(std::string* s, std::string_view v) { s->append(v); }
inline void append(std::string* s, const char* v) { s->append(v); }
inline void append(std::string* s, const std::string& v) { s->append(v); }
inline void append(std::string* s, absl::string_view v) { s->append(v.data(), v.size()); }
inline void append(std::string* s, size_t n) { s->append(std::to_string(n)); }
template <typename... T>
inline std::string cat(const T&... parts) {
  std::string s;
  (append(&s, parts), ...);
  return s;
}

inline bool ignored_key(std::string_view key) {
  for (std::string_view k : kIgnoredKeys) {
    if (key == k) {
      return true;
    }
  }
  return false;
}

inline std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Parser walks one document; every error names a path ("recipients[3].email")
// and the byte offset into the body.
class Parser {
 public:
  Parser(const simdjson::padded_string& body, od::document* doc, const InjectLimits& limits)
      : _base(body.data()), _size(body.size()), _doc(doc), _limits(limits) {}

  absl::Status parse(InjectRequest* out);

 private:
  size_t offset(std::string_view token) const {
    return static_cast<size_t>(token.data() - _base);
  }
  absl::Status json_error(simdjson::error_code e) {
    const char* at = nullptr;
    if (_doc->current_location().get(at) != simdjson::SUCCESS || at == nullptr) {
      return absl::InvalidArgumentError(
          cat("malformed JSON at byte ", _size, ": ", simdjson::error_message(e)));
    }
    return absl::InvalidArgumentError(cat("malformed JSON at byte ", static_cast<size_t>(at - _base), ": ",
                                                   simdjson::error_message(e)));
  }
  absl::Status field_error(std::string_view path, std::string_view what, od::value& v) {
    return absl::InvalidArgumentError(
        cat("\"", path, "\" ", what, " (at byte ", offset(v.raw_json_token()), ")"));
  }
  absl::Status missing(std::string_view path, std::string_view key) {
    return absl::InvalidArgumentError(cat(
        path.empty() ? "" : cat("\"", path, "\": "), "missing required key \"", key, "\""));
  }
  absl::Status key_error(std::string_view path, std::string_view key, std::string_view what,
                         od::value& v) {
    return absl::InvalidArgumentError(cat(path.empty() ? "" : cat("\"", path, "\": "),
                                                   what, " key \"", key, "\" (value at byte ",
                                                   offset(v.raw_json_token()), ")"));
  }

  absl::Status type_of(od::value& v, od::json_type* t) {
    if (auto e = v.type().get(*t); e) {
      return json_error(e);
    }
    return absl::OkStatus();
  }
  absl::Status string(od::value& v, std::string_view path, size_t max, std::string* out);
  absl::Status object(od::value& v, std::string_view path, od::object* out);
  absl::Status substitutions(od::value& v, std::string_view path, Substitutions* out);
  absl::Status content(od::value& v, InjectRequest* out);
  absl::Status parts(od::object& o, MessageParts* out);
  absl::Status headers(od::value& v, std::vector<std::pair<std::string, std::string>>* out);
  absl::Status recipients(od::value& v, InjectRequest* out);
  absl::Status recipient(od::value& v, size_t index, InjectRequest* out);

  const char* _base;
  size_t _size;
  od::document* _doc;
  const InjectLimits& _limits;
};

}  // namespace ringmta::proto::inject_internal
