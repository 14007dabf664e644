// proto/json_text.cc — JSON string literals (json_text.h).
#include "proto/json_text.h"

namespace ringmta::proto {
namespace {

// utf8_length: the length of the well-formed UTF-8 sequence (RFC 3629 4)
// that starts s[i] (a byte >= 0x80), or 0 when it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void append_json_string(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else if (c < 0x80) {
          out->push_back(static_cast<char>(c));
        } else if (const size_t n = utf8_length(s, i); n != 0) {
          out->append(s.substr(i, n));  // UTF-8 (SMTPUTF8 addresses) passes through
          i += n - 1;
        } else {
          // A peer's byte that is not UTF-8 (a reply, a note cut mid-
          // character): JSON text must be Unicode, so U+FFFD stands in.
          out->append("\\ufffd");
        }
    }
  }
  out->push_back('"');
}

}  // namespace ringmta::proto
