// proto/reply_parser.h — SMTP replies from a server, resumable over any
// fragmentation (RFC 5321 4.2, enhanced codes RFC 2034/3463).
//
//   ReplyParser p;
//   size_t used = 0;
//   switch (p.parse(bytes, &used)) {   // used: octets taken from `bytes`
//     case ReplyParser::Status::kReply: use(p.reply()); break;  // one reply
//     case ReplyParser::Status::kNeedMore: break;              // all used
//     case ReplyParser::Status::kError: fail(p.error()); break;
//   }
//
// parse() stops right after one complete reply, so the caller can act on it
// (and write the next command) before looking at the following bytes.
// Everything is bounded (distrust input): a line over kMaxLine octets or a
// reply over kMaxLines lines is an error, and only the first kMaxText octets
// of a reply's text are kept. Lines end at LF; a CR before it is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::proto {

// Reply is one (possibly multi-line) reply. `text` joins the lines' texts
// with one space; a line's leading enhanced code is left out of it when it
// repeats the first line's. `local` marks a reply made up by the client
// (timeout, lost connection, a check before sending), never sent by a server.
struct Reply {
  int code = 0;          // 0: no reply
  std::string enhanced;  // "5.1.1", "" when the server gave none
  std::string text;
  bool local = false;
};

// format_reply renders "550 5.1.1 text" (for logs and DSN diagnostics).
std::string format_reply(const Reply& reply);

// make_local_reply builds a client-made reply.
Reply make_local_reply(int code, std::string_view enhanced, std::string_view text);

// EhloCapabilities: the extensions of an EHLO reply that the client uses.
struct EhloCapabilities {
  bool pipelining = false;    // RFC 2920
  bool chunking = false;      // RFC 3030
  bool eightbitmime = false;  // RFC 6152
  bool smtputf8 = false;      // RFC 6531
  bool starttls = false;      // RFC 3207
  bool size = false;          // RFC 1870
  uint64_t max_size = 0;      // SIZE's value; 0 is "no fixed limit"
};

// parse_ehlo_keywords reads ReplyParser::lines() of a 2xx EHLO reply: the
// first line is the server's name, each other starts with a keyword
// (case-insensitive, RFC 5321 4.1.1.1). Unknown keywords are ignored.
EhloCapabilities parse_ehlo_keywords(std::string_view lines);

class ReplyParser {
 public:
  static constexpr size_t kMaxLine = 4096;  // octets, line ending excluded
  static constexpr size_t kMaxLines = 100;
  static constexpr size_t kMaxText = 4096;

  enum class Status : uint8_t { kNeedMore, kReply, kError };

  // parse takes octets from `in` up to the end of one reply and sets *used.
  // After kError the parser stays failed.
  Status parse(std::string_view in, size_t* used);

  // reply is the last complete reply; valid until the next parse().
  Reply& reply() { return _reply; }
  // lines holds each line's text of the last reply (after "250-"), one per
  // line, each ended by '\n' (EHLO keywords are read from it).
  std::string_view lines() const { return _lines; }
  std::string_view error() const { return _error; }
  // in_reply is true while part of a reply has been read.
  bool in_reply() const { return !_line.empty() || _line_count > 0; }

 private:
  Status take_line(std::string_view line);
  void finish_reply();
  Status fail(std::string_view why);

  std::string _line;   // a line split over calls
  std::string _lines;  // texts of the reply's lines, '\n'-terminated
  Reply _reply;
  size_t _line_count = 0;
  int _code = 0;
  bool _complete = false;
  std::string_view _error;
};

}  // namespace ringmta::proto
