// tests/fuzz/data_decoder_fuzzer.cc — libFuzzer harness for BodyDecoder.
//
// Input: byte 0 picks the mode and a fragment size, bytes 1-2 the size
// limit, byte 3 the text line limit, the rest is the body as sent. The
// decoder's result must match a slow reference written straight from the
// rules, whatever the fragmentation, and:
//   - the output holds only CRLF line endings (no bare CR or LF);
//   - DATA ends only right after CRLF "." CRLF (or ".CRLF" at the start);
//   - the output never exceeds the size limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/data_decoder.h"

namespace {

using ringmta::proto::BodyDecoder;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

struct Result {
  std::string out;
  size_t used = 0;
  bool done = false;
  bool long_lines = false;
  uint64_t size = 0;
};

// reference decodes byte by byte, straight from the rules (see
// proto/data_decoder.h). Output is not truncated here.
Result reference(std::string_view in, bool data, size_t max_line) {
  Result r;
  size_t end = std::string_view::npos;
  if (data) {
    for (size_t i = 0; i + 2 < in.size(); ++i) {
      bool after_crlf = i == 0 || (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n');
      if (after_crlf && in[i] == '.' && in[i + 1] == '\r' && in[i + 2] == '\n') {
        end = i;
        break;
      }
    }
  }
  r.done = end != std::string_view::npos;
  r.used = r.done ? end + 3 : in.size();
  std::string_view body = r.done ? in.substr(0, end) : in;
  const size_t content_max = max_line >= 2 ? max_line - 2 : 0;
  bool real_start = data;
  size_t i = 0;
  while (i < body.size()) {
    size_t line_start = i;
    bool dropped_dot = false;
    if (data && real_start && body[i] == '.') {
      dropped_dot = true;
      ++i;
    }
    size_t j = i;
    while (j < body.size() && body[j] != '\r' && body[j] != '\n') {
      ++j;
    }
    r.out.append(body.substr(i, j - i));
    // A lone "." or ".<CR>" at the very end may still become the end
    // marker, so the decoder has not counted it yet.
    bool maybe_marker = dropped_dot && j == i &&
                        (j == body.size() || (body[j] == '\r' && j + 1 == body.size()));
    if (j - line_start > content_max && !maybe_marker) {
      r.long_lines = true;
    }
    if (j == body.size()) {
      break;
    }
    if (body[j] == '\r' && j + 1 == body.size()) {
      if (!data) {
        r.out += "\r\n";  // BDAT's finish() flushes it; DATA keeps it pending
      }
      break;
    }
    bool crlf = body[j] == '\r' && body[j + 1] == '\n';
    r.out += "\r\n";
    real_start = data && crlf;
    i = j + (crlf ? 2 : 1);
  }
  r.size = r.out.size();
  return r;
}

Result decode(std::string_view in, bool data, size_t fragment, uint64_t max_size,
              size_t max_line) {
  BodyDecoder d(data ? BodyDecoder::Mode::kData : BodyDecoder::Mode::kBdat, max_size, max_line);
  Result r;
  for (size_t pos = 0; pos < in.size() && !d.done();) {
    size_t n = std::min(fragment, in.size() - pos);
    size_t used = d.consume(in.substr(pos, n), &r.out);
    check(used <= n);
    check(used == n || d.done());
    r.used += used;
    pos += n;
  }
  if (!data) {
    d.finish(&r.out);
  }
  r.done = d.done();
  r.long_lines = d.has_long_lines();
  r.size = d.size();
  check(d.too_big() == (d.size() > max_size));
  check(r.out.size() <= max_size);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 4) {
    return 0;
  }
  const bool data = (bytes[0] & 1) == 0;
  static constexpr size_t kFragments[] = {1, 2, 3, 7, 10, 100, 1000, SIZE_MAX};
  const size_t fragment = kFragments[(bytes[0] >> 1) & 7];
  const uint64_t max_size = (static_cast<uint64_t>(bytes[1]) << 8) | bytes[2];
  const size_t max_line = bytes[3];
  std::string_view in(reinterpret_cast<const char*>(bytes) + 4, size - 4);

  Result ref = reference(in, data, max_line);
  Result got = decode(in, data, fragment, max_size, max_line);
  Result whole = decode(in, data, SIZE_MAX, UINT64_MAX, max_line);
  check(got.done == ref.done && got.used == ref.used && got.size == ref.size);
  check(got.long_lines == ref.long_lines);
  check(got.out == ref.out.substr(0, std::min<uint64_t>(max_size, ref.out.size())));
  check(whole.out == ref.out);
  if (got.done) {
    std::string_view head = in.substr(0, got.used);
    check(head.size() == 3 || head.substr(head.size() - 5) == "\r\n.\r\n");
    check(head.substr(head.size() - 3) == ".\r\n");
  }
  for (size_t k = 0; k < ref.out.size(); ++k) {
    if (ref.out[k] == '\r') {
      check(k + 1 < ref.out.size() && ref.out[k + 1] == '\n');
    } else if (ref.out[k] == '\n') {
      check(k > 0 && ref.out[k - 1] == '\r');
    }
  }
  return 0;
}
