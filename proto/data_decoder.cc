// proto/data_decoder.cc — DATA/BDAT body decoding (RFC 5321 4.5.2, RFC 3030).
#include "proto/data_decoder.h"

#include <cstring>

namespace ringmta::proto {

BodyDecoder::BodyDecoder(Mode mode, uint64_t max_size, size_t max_text_line)
    : _mode(mode),
      _state(State::kText),
      _max_size(max_size),
      // RFC 5321 4.5.3.1.6 counts the CRLF in the 1000 octets.
      _max_line(max_text_line >= 2 ? max_text_line - 2 : 0) {
  reset(mode);
}

void BodyDecoder::reset(Mode mode) {
  _mode = mode;
  // DATA's own CRLF precedes the first line, so a leading ".CRLF" ends it.
  _state = mode == Mode::kData ? State::kLineStart : State::kText;
  _size = 0;
  _line_len = 0;
  _too_big = false;
  _long_lines = false;
}

void BodyDecoder::emit(const char* p, size_t n, std::string* out) {
  const uint64_t before = _size;
  _size += n;
  if (_too_big) {
    return;
  }
  if (_size > _max_size) {
    // Keep decoding to find the end, but stop storing: the message is
    // refused with 552 anyway and memory stays bounded by max_size. The
    // part that fits is kept so that the result never depends on how the
    // input was fragmented.
    _too_big = true;
    n = static_cast<size_t>(_max_size - before);
  }
  out->append(p, n);
}

void BodyDecoder::emit_crlf(std::string* out) {
  emit("\r\n", 2, out);
  _line_len = 0;
}

void BodyDecoder::count_line(size_t n) {
  _line_len += n;
  if (_line_len > _max_line) {
    _long_lines = true;
  }
}

// scan_text copies a run of line content and handles the line ending that
// stops it. It searches LF once and CRs progressively, so input made only
// of bare CRs or bare LFs stays linear.
size_t BodyDecoder::scan_text(std::string_view in, std::string* out) {
  const char* p = in.data();
  const size_t n = in.size();
  const auto* lf = static_cast<const char*>(std::memchr(p, '\n', n));
  const size_t limit = lf != nullptr ? static_cast<size_t>(lf - p) : n;
  size_t pos = 0;
  while (true) {
    const auto* cr = static_cast<const char*>(std::memchr(p + pos, '\r', limit - pos));
    if (cr == nullptr) {
      break;
    }
    size_t at = static_cast<size_t>(cr - p);
    emit(p + pos, at - pos, out);
    count_line(at - pos);
    if (at + 1 == n) {
      _state = State::kCr;  // the next fragment decides
      return n;
    }
    emit_crlf(out);
    if (p[at + 1] == '\n') {
      _state = _mode == Mode::kData ? State::kLineStart : State::kText;
      return at + 2;
    }
    pos = at + 1;  // bare CR: a line break, but not a real line start
  }
  emit(p + pos, limit - pos, out);
  count_line(limit - pos);
  if (lf != nullptr) {
    emit_crlf(out);  // bare LF, likewise
    return limit + 1;
  }
  return n;
}

size_t BodyDecoder::consume(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    switch (_state) {
      case State::kText:
        i += scan_text(in.substr(i), out);
        break;
      case State::kLineStart:
        if (c == '.') {
          // Counted toward the line length only once we know the line is
          // not the end marker.
          _state = State::kDot;
          ++i;
        } else {
          _state = State::kText;
        }
        break;
      case State::kDot:
        // The dot is dropped whatever follows; only CR may lead to the end.
        if (c == '\r') {
          _state = State::kDotCr;
          ++i;
        } else {
          count_line(1);
          _state = State::kText;
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          _state = State::kDone;
          return i + 1;
        }
        count_line(1);
        emit_crlf(out);  // ".<CR>x": the bare CR ends an empty line
        _state = State::kText;
        break;
      case State::kCr:
        emit_crlf(out);
        if (c == '\n') {
          ++i;
          _state = _mode == Mode::kData ? State::kLineStart : State::kText;
        } else {
          _state = State::kText;  // bare CR; c is decoded as text next
        }
        break;
      case State::kDone:
        return i;
    }
  }
  return i;
}

void BodyDecoder::finish(std::string* out) {
  if (_state == State::kCr) {
    emit_crlf(out);
    _state = State::kText;
  }
}

}  //