// proto/data_decoder.h — the message body decoder for DATA and BDAT.
//
// Resumable over any fragmentation (state carries across consume() calls).
// The output is the body as stored: every line ends in CRLF, DATA's dot
// stuffing removed. Usage:
//
//   BodyDecoder d(BodyDecoder::Mode::kData, limits.max_message_size, 1000);
//   size_t used = d.consume(bytes, &body);  // stops right after CRLF.CRLF
//   if (d.done()) { ... d.too_big(), d.has_long_lines() ... }
//
// SMTP smuggling: only CRLF "." CRLF ends DATA, where the first CRLF is a
// real one (or DATA's own line ending). A bare CR or bare LF ends a line in
// the output (it becomes CRLF, so nothing stored can be re-read as another
// boundary) but never starts a line that can end the message or lose a
// stuffed dot.
//
// BDAT (Mode::kBdat) has no end marker and no dot stuffing: the session
// slices exactly the chunk's octets in and calls finish() after LAST.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::proto {

class BodyDecoder {
 public:
  enum class Mode : uint8_t { kData, kBdat };

  BodyDecoder(Mode mode, uint64_t max_size, size_t max_text_line);

  // reset starts a new message in `mode` (limits kept).
  void reset(Mode mode);

  // consume decodes `in`, appending to *out; returns the octets used. In
  // kData it stops right after the end marker; in kBdat it uses all of `in`.
  size_t consume(std::string_view in, std::string* out);

  // finish flushes a pending CR at the end of the last BDAT chunk.
  void finish(std::string* out);

  // done: kData saw CRLF.CRLF.
  bool done() const { return _state == State::kDone; }
  // too_big: the output passed max_size; appending stopped there.
  bool too_big() const { return _too_big; }
  bool has_long_lines() const { return _long_lines; }
  // size counts every output octet, including those not appended.
  uint64_t size() const { return _size; }

 private:
  enum class State : uint8_t {
    kLineStart,  // after a real CRLF (DATA: a '.' here is stuffing)
    kDot,        // kLineStart then '.', dropped
    kDotCr,      // kDot then CR: LF now ends the message
    kText,       // inside a line, or after a bare CR/LF
    kCr,         // CR pending: LF makes a real CRLF
    kDone,
  };

  void emit(const char* p, size_t n, std::string* out);
  void emit_crlf(std::string* out);
  void count_line(size_t n);
  size_t scan_text(std::string_view in, std::string* out);

  Mode _mode;
  State _state;
  uint64_t _max_size;
  size_t _max_line;  // longest line content, CRLF excluded
  uint64_t _size = 0;
  size_t _line_len = 0;
  bool _too_big = false;
  bool _long_lines = false;
};

}  // namespace ringmta::proto
