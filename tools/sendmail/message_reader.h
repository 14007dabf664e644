// tools/sendmail/message_reader.h — the message as it arrives on stdin,
// turned into the content ringmta stores: CRLF line ends, not dot-stuffed.
//
//   MessageReader r({.ignore_dots = o.ignore_dots, .max_size = kMaxMessage});
//   while (!r.done() && (n = read(0, buf, sizeof buf)) > 0) {
//     if (absl::Status st = r.feed({buf, n}); !st.ok()) return EX_DATAERR;
//   }
//   r.finish();
//   std::string content = r.take();
//
// Callers of sendmail write Unix text: lines end in LF, and a line that is
// a lone "." ends the message unless -i is given (Sendmail's rule, which
// Postfix keeps). A CR before the LF is dropped and put back, so CRLF
// input stays as it is; a last line without LF gets CRLF. Dot-stuffing is
// the SMTP client's job (proto/client_content.h), not this one's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace ringmta::sendmail {

// kMaxMessage: the largest message accepted on stdin (the server's SIZE, if
// lower, is checked later). Bounded so that a runaway producer cannot fill
// memory or the maildrop.
inline constexpr size_t kMaxMessage = size_t{64} << 20;

struct ReaderOptions {
  bool ignore_dots = false;  // -i / -oi
  size_t max_size = kMaxMessage;
};

class MessageReader {
 public:
  explicit MessageReader(ReaderOptions options) : _options(options) {}

  // feed takes the next bytes of input. After a lone "." line (without -i)
  // done() is true and the rest of the input is not read (Sendmail leaves
  // it unread too). FailedPrecondition (EX_DATAERR for the caller) once
  // the content passes max_size.
  absl::Status feed(std::string_view bytes);

  // finish: the input ended (EOF); a last line without LF is kept.
  void finish();

  bool done() const { return _done; }
  size_t size() const { return _content.size(); }
  std::string take() { return std::move(_content); }

 private:
  void end_line();

  ReaderOptions _options;
  std::string _content;
  std::string _line;  // the current line, without its LF
  bool _done = false;
};

// normalize_message: the whole of `input` through a MessageReader (tests,
// and callers that already hold the message).
absl::Status normalize_message(std::string_view input, ReaderOptions options, std::string* out);

}  // namespace ringmta::sendmail
