// tools/sendmail/message_reader.cc — stdin to stored content
// (message_reader.h).
#include "tools/sendmail/message_reader.h"

#include "absl/strings/str_cat.h"

namespace ringmta::sendmail {

void MessageReader::end_line() {
  if (!_line.empty() && _line.back() == '\r') _line.pop_back();
  if (!_options.ignore_dots && _line == ".") {
    _done = true;
    return;
  }
  _content.append(_line);
  _content.append("\r\n");
  _line.clear();
}

absl::Status MessageReader::feed(std::string_view bytes) {
  while (!bytes.empty() && !_done) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    // The bound counts what is stored: content, the line so far and its CRLF.
    if (_content.size() + _line.size() + part.size() + 2 > _options.max_size) {
      return absl::FailedPreconditionError(
          absl::StrCat("the message is larger than ", _options.max_size, " octets (the most the server takes)"));
    }
    _line.append(part);
    if (nl == std::string_view::npos) break;
    end_line();
    bytes.remove_prefix(nl + 1);
  }
  return absl::OkStatus();
}

void MessageReader::finish() {
  if (!_done && !_line.empty()) end_line();
  _done = true;
}

absl::Status normalize_message(std::string_view input, ReaderOptions options, std::string* out) {
  MessageReader r(options);
  if (absl::Status st = r.feed(input); !st.ok()) return st;
  r.finish();
  *out = r.take();
  return absl::OkStatus();
}

}  // namespace ringmta::sendmail
