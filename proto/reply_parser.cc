// proto/reply_parser.cc — SMTP reply parsing.
#include "proto/reply_parser.h"

#include <cstring>

#include "proto/command.h"
#include "proto/reply.h"

namespace ringmta::proto {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// enhanced_length returns the length of an RFC 3463 code ("5.1.1") at the
// start of `text` whose class matches the reply's first digit, followed by
// a space or the end; 0 when there is none.
size_t enhanced_length(std::string_view text, int code) {
  if (text.size() < 5 || text[0] != static_cast<char>('0' + code / 100) ||
      text[1] != '.') {
    return 0;
  }
  size_t pos = 2;
  for (int part = 0; part < 2; ++part) {
    size_t digits = 0;
    while (pos < text.size() && is_digit(text[pos]) && digits < 4) {
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 3) {
      return 0;
    }
    if (part == 0) {
      if (pos >= text.size() || text[pos] != '.') {
        return 0;
      }
      ++pos;
    }
  }
  if (pos < text.size() && text[pos] != ' ') {
    return 0;
  }
  return pos;
}

bool keyword_is(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    if (c != upper[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

EhloCapabilities parse_ehlo_keywords(std::string_view lines) {
  EhloCapabilities caps;
  size_t pos = lines.find('\n');
  pos = pos == std::string_view::npos ? lines.size() : pos + 1;
  while (pos < lines.size()) {
    size_t end = lines.find('\n', pos);
    std::string_view line = lines.substr(pos, end - pos);
    pos = end == std::string_view::npos ? lines.size() : end + 1;
    size_t space = line.find(' ');
    std::string_view word = line.substr(0, space);
    if (keyword_is(word, "PIPELINING")) {
      caps.pipelining = true;
    } else if (keyword_is(word, "CHUNKING")) {
      caps.chunking = true;
    } else if (keyword_is(word, "8BITMIME")) {
      caps.eightbitmime = true;
    } else if (keyword_is(word, "SMTPUTF8")) {
      caps.smtputf8 = true;
    } else if (keyword_is(word, "STARTTLS")) {
      caps.starttls = true;
    } else if (keyword_is(word, "SIZE")) {
      caps.size = true;
      uint64_t limit = 0;
      if (space != std::string_view::npos && parse_decimal(line.substr(space + 1), &limit)) {
        caps.max_size = limit;
      }
    }
  }
  return caps;
}

std::string format_reply(const Reply& reply) {
  std::string out;
  append_decimal(&out, static_cast<uint64_t>(reply.code));
  if (!reply.enhanced.empty()) {
    append_pieces(&out, {" ", reply.enhanced});
  }
  if (!reply.text.empty()) {
    append_pieces(&out, {" ", reply.text});
  }
  return out;
}

Reply make_local_reply(int code, std::string_view enhanced, std::string_view text) {
  Reply reply;
  reply.code = code;
  reply.enhanced = std::string(enhanced);
  reply.text = std::string(text);
  reply.local = true;
  return reply;
}

ReplyParser::Status ReplyParser::parse(std::string_view in, size_t* used) {
  *used = 0;
  if (!_error.empty()) {
    return Status::kError;
  }
  if (_complete) {
    // The previous reply was handed out; its buffers are reused (their
    // capacity stays, so steady state allocates nothing per reply line).
    _complete = false;
    _lines.clear();
    _reply = Reply{};
  }
  size_t pos = 0;
  while (pos < in.size()) {
    const char* nl = static_cast<const char*>(
        std::memchr(in.data() + pos, '\n', in.size() - pos));
    if (nl == nullptr) {
      // +1: the line may still end with a CR that is not part of it.
      if (_line.size() + (in.size() - pos) > kMaxLine + 1) {
        return fail("reply line too long");
      }
      _line.append(in.substr(pos));
      *used = in.size();
      return Status::kNeedMore;
    }
    size_t end = static_cast<size_t>(nl - in.data());
    std::string_view line = in.substr(pos, end - pos);
    if (!_line.empty()) {
      if (_line.size() + line.size() > kMaxLine + 1) {
        return fail("reply line too long");
      }
      _line.append(line);
      line = _line;
    }
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() > kMaxLine) {
      return fail("reply line too long");
    }
    Status status = take_line(line);
    _line.clear();
    if (status != Status::kNeedMore) {
      *used = pos;
      return status;
    }
  }
  *used = pos;
  return Status::kNeedMore;
}

ReplyParser::Status ReplyParser::take_line(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
      line[0] < '2' || line[0] > '5') {
    return fail("malformed reply code");
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  bool last = true;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      return fail("malformed reply separator");
    }
  }
  if (_line_count == 0) {
    _code = code;
  } else if (code != _code) {
    return fail("reply code changed within a multi-line reply");
  }
  if (++_line_count > kMaxLines) {
    return fail("reply has too many lines");
  }
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  if (_lines.size() + text.size() + 1 <= kMaxText) {
    _lines.append(text);
    _lines.push_back('\n');
  }
  if (!last) {
    return Status::kNeedMore;
  }
  finish_reply();
  return Status::kReply;
}

void ReplyParser::finish_reply() {
  _reply.code = _code;
  std::string_view all = _lines;
  size_t first_end = all.find('\n');
  size_t elen = enhanced_length(all.substr(0, first_end), _code);
  _reply.enhanced = std::string(all.substr(0, elen));
  _reply.text.reserve(all.size());
  for (size_t pos = 0; pos < all.size();) {
    size_t end = all.find('\n', pos);
    std::string_view text = all.substr(pos, end - pos);
    pos = end + 1;
    // Servers repeat the enhanced code on every line (RFC 2034 3); once in
    // the reply is enough.
    if (elen > 0 && text.substr(0, elen) == _reply.enhanced) {
      text.remove_prefix(elen);
      if (!text.empty()) {
        text.remove_prefix(1);
      }
    }
    if (text.empty()) {
      continue;
    }
    if (!_reply.text.empty()) {
      _reply.text.push_back(' ');
    }
    _reply.text.append(text);
  }
  _line_count = 0;
  _complete = true;
}

ReplyParser::Status ReplyParser::fail(std::string_view why) {
  _error = why;
  return Status::kError;
}

}  // namespace ringmta::proto
