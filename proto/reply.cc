// proto/reply.cc — SMTP reply formatting.
#include "proto/reply.h"

#include <charconv>

namespace ringmta::proto {

void append_reply(std::string* out, std::string_view line) {
  out->append(line);
  out->append("\r\n");
}

void append_pieces(std::string* out, std::initializer_list<std::string_view> pieces) {
  size_t total = out->size();
  for (std::string_view piece : pieces) {
    total += piece.size();
  }
  out->reserve(total);
  for (std::string_view piece : pieces) {
    out->append(piece);
  }
}

void append_decimal(std::string* out, uint64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, static_cast<size_t>(result.ptr - buf));
}

void append_ehlo_reply(std::string* out, std::string_view hostname,
                       uint64_t max_message_size) {
  // Order is part of the contract (golden transcripts compare it).
  append_pieces(out, {"250-", hostname, "\r\n250-PIPELINING\r\n250-SIZE "});
  append_decimal(out, max_message_size);
  out->append(
      "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
      "250 ENHANCEDSTATUSCODES\r\n");
}

std::string_view printable_or_empty(std::string_view text) {
  for (char c : text) {
    if (c < 32 || c > 126) {
      return {};
    }
  }
  return text;
}

}  // namespace ringmta::proto
