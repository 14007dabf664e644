// proto/client_content.cc — the wire form of a message's content.
#include "proto/client_content.h"

#include <cstring>
#include <initializer_list>

namespace ringmta::proto {
namespace {

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// walk_content passes the wire form of `pieces` to `emit` in runs. One walk
// counts (for SIZE= and BDAT), one writes: the content is copied once, and
// nothing has to be inserted in front of octets already written.
template <typename Emit>
void walk_content(std::initializer_list<std::string_view> pieces, size_t max_line,
                  bool stuff, Emit&& emit) {
  size_t column = 0;
  bool after_cr = false;
  for (std::string_view piece : pieces) {
    const char* base = piece.data();
    size_t pos = 0;
    while (pos < piece.size()) {
      char c = piece[pos];
      if (c == '\r' || c == '\n') {
        if (!(c == '\n' && after_cr)) {
          emit(std::string_view("\r\n"));
          column = 0;
        }
        after_cr = c == '\r';
        ++pos;
        continue;
      }
      after_cr = false;
      // Content is CRLF-normalized, so two memchr()s per line find its end.
      const void* nl = std::memchr(base + pos, '\n', piece.size() - pos);
      size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : piece.size();
      const void* cr = std::memchr(base + pos, '\r', end - pos);
      if (cr != nullptr) {
        end = static_cast<size_t>(static_cast<const char*>(cr) - base);
      }
      std::string_view run = piece.substr(pos, end - pos);
      pos = end;
      while (!run.empty()) {
        if (column == 0 && stuff && run[0] == '.') {
          emit(std::string_view("."));
          column = 1;
        }
        size_t room = max_line - column;
        if (run.size() <= room) {
          emit(run);
          column += run.size();
          break;
        }
        size_t cut = room;
        for (int back = 0; back < 3 && cut > 1 && utf8_continuation(run[cut]); ++back) {
          --cut;
        }
        if (cut > 0) {
          emit(run.substr(0, cut));
          run.remove_prefix(cut);
        }
        emit(std::string_view("\r\n "));
        column = 1;
      }
    }
  }
  if (column > 0) {
    emit(std::string_view("\r\n"));
  }
}

}  // namespace

uint64_t wire_content_size(std::string_view trace_headers, std::string_view body,
                           size_t max_line) {
  uint64_t size = 0;
  walk_content({trace_headers, body}, max_line, false,
               [&size](std::string_view run) { size += run.size(); });
  return size;
}

void append_wire_content(std::string* out, std::string_view trace_headers,
                         std::string_view body, size_t max_line, bool dot_stuff) {
  walk_content({trace_headers, body}, max_line, dot_stuff,
               [out](std::string_view run) { out->append(run); });
}

}  // namespace ringmta::proto
