// proto/mime_decode.cc — the base64 and quoted-printable transfer
// encodings (RFC 2045 6.7, 6.8), decoded leniently and to a bound.
#include "proto/mime_decode.h"

#include <algorithm>
#include <cstdint>

#include "proto/mime_read.h"

namespace ringmta::proto {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;  // RFC 2045 asks for upper case; lower is common
  }
  return -1;
}

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

}  // namespace

std::string_view decode_body(std::string_view transfer_encoding, std::string_view body, size_t limit,
                             std::string* storage) {
  const std::string name = mime_token(transfer_encoding);
  if (name == "base64") {
    decode_base64_mime(body, limit, storage);
    return *storage;
  }
  if (name == "quoted-printable") {
    decode_quoted_printable(body, limit, storage);
    return *storage;
  }
  return body;
}

void decode_base64_mime(std::string_view in, size_t limit, std::string* out) {
  out->clear();
  out->reserve(std::min(limit, in.size() / 4 * 3 + 3));
  uint32_t bits = 0;
  int held = 0;
  for (char c : in) {
    if (c == '=') {
      return;
    }
    const int v = sextet(c);
    if (v < 0) {
      continue;
    }
    bits = ((bits << 6) | static_cast<uint32_t>(v)) & 0xFFFFFF;
    held += 6;
    if (held >= 8) {
      held -= 8;
      if (out->size() >= limit) {
        return;
      }
      out->push_back(static_cast<char>((bits >> held) & 0xFF));
    }
  }
}

void decode_quoted_printable(std::string_view in, size_t limit, std::string* out) {
  out->clear();
  out->reserve(std::min(limit, in.size()));
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t nl = in.find('\n', pos);
    const bool ended = nl != std::string_view::npos;
    std::string_view s = in.substr(pos, (ended ? nl : in.size()) - pos);
    if (!s.empty() && s.back() == '\r') {
      s.remove_suffix(1);
    }
    // RFC 2045 6.7 (3): white space at a line end was added in transport.
    while (!s.empty() && is_wsp(s.back())) {
      s.remove_suffix(1);
    }
    const bool soft = !s.empty() && s.back() == '=';
    if (soft) {
      s.remove_suffix(1);
    }
    for (size_t i = 0; i < s.size(); ++i) {
      if (out->size() >= limit) {
        return;
      }
      char c = s[i];
      if (c == '=') {
        const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          c = static_cast<char>(hi * 16 + lo);
          i += 2;
        }
      }
      out->push_back(c);
    }
    if (ended && !soft) {
      if (out->size() + 2 > limit) {
        return;
      }
      out->append("\r\n");
    }
    pos = ended ? nl + 1 : in.size();
  }
}

}  // namespace ringmta::proto
