// tests/fuzz/http_parse_fuzzer.cc — libFuzzer harness for HttpParser: the
// admin API reads every request with it, from anyone who can connect.
//
// Input: the first byte picks where the stream is cut into pieces (so the
// resumable paths are exercised), the rest is the stream. Whatever it
// holds:
//   - feed never uses more than it was given, and a message is taken
//     before the next byte is used (pipelining stops at boundaries);
//   - every bound holds: header count, body size; the path is a prefix of
//     the target and a decoded query parameter no longer than it;
//   - parsing the same stream in one piece gives the same messages, and
//     fails or not alike (the status may differ: a bound crossed inside a
//     span is seen at a cut before a later syntax error is).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proto/http_parse.h"

namespace {

using ringmta::proto::HttpLimits;
using ringmta::proto::HttpMessage;
using ringmta::proto::HttpParser;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

constexpr HttpLimits kLimits{.max_header_bytes = 512, .max_headers = 8, .max_body = 1024};

// run parses stream cut into pieces of `step` bytes (0: one piece) and
// returns the messages, then the error status (or 0) as a last entry.
std::vector<std::string> run(std::string_view stream, size_t step, HttpParser::Kind kind) {
  HttpParser p(kind, kLimits);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < stream.size() && !p.failed()) {
    const size_t end = step == 0 ? stream.size() : std::min(stream.size(), pos + step);
    std::string_view piece = stream.substr(pos, end - pos);
    while (!piece.empty() && !p.failed()) {
      const size_t used = p.feed(piece);
      check(used <= piece.size());
      piece.remove_prefix(used);
      pos += used;
      if (p.done()) {
        HttpMessage m = p.take();
        check(m.headers.size() <= kLimits.max_headers);
        check(m.body.size() <= kLimits.max_body);
        // The admin API reads the path and query parameters of every request.
        check(m.target.compare(0, m.path().size(), m.path()) == 0);
        check(m.query_param("domain").size() <= m.target.size());
        out.push_back(m.method + " " + m.target + " " + std::to_string(m.status) + " " +
                      std::to_string(m.headers.size()) + " " + m.body + (m.keep_alive ? " ka" : ""));
      } else if (used == 0) {
        break;
      }
    }
    if (!piece.empty() && !p.failed()) {
      break;  // the parser refused bytes without failing or finishing: checked below
    }
  }
  if (!p.failed()) {
    check(pos == stream.size());
    p.feed_eof();
    if (p.done()) {
      HttpMessage m = p.take();
      out.push_back(m.method + " " + m.target + " " + std::to_string(m.status) + " " +
                    std::to_string(m.headers.size()) + " " + m.body + (m.keep_alive ? " ka" : ""));
    }
  }
  out.push_back(p.failed() ? "failed" : "ok");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t step = data[0] & 0x3F;
  const auto kind = (data[0] & 0x40) ? HttpParser::Kind::kResponse : HttpParser::Kind::kRequest;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto whole = run(stream, 0, kind);
  const auto cut = run(stream, step == 0 ? 1 : step, kind);
  check(whole == cut);
  return 0;
}
