// tools/postfix/postfix_queue_file.cc — the Postfix queue file reader
// (postfix_queue_file.h describes the format and the bounds).
#include "tools/postfix/postfix_queue_file.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::postfix {
namespace {

struct Record {
  char type = 0;
  std::string_view data;
  size_t next = 0;  // offset of the record after this one
};

absl::Status bad(size_t offset, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("offset ", offset, ": ", av(what)));
}

// read_record: the record at `at`, or an error for a truncated one.
absl::Status read_record(std::string_view file, size_t at, Record* r) {
  if (at >= file.size()) {
    return bad(at, "end of file before the E record (an unfinished queue file)");
  }
  r->type = file[at];
  size_t pos = at + 1;
  uint64_t len = 0;
  for (int i = 0;; ++i) {
    if (pos >= file.size()) {
      return bad(at, "record length runs past the end of the file");
    }
    if (i == 5) {
      return bad(at, "record length longer than 5 octets");
    }
    const auto b = static_cast<unsigned char>(file[pos++]);
    len |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      break;
    }
  }
  if (len > file.size() - pos) {
    return bad(at, absl::StrCat("record of ", len, " octets runs past the end of the file"));
  }
  r->data = file.substr(pos, len);
  r->next = pos + len;
  return absl::OkStatus();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// parse_number: a decimal number with blanks around it ("%15ld").
bool parse_number(std::string_view s, int64_t* out) {
  s = trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

// parse_time: "SEC USEC" (Postfix 2.3 and later) or "SEC".
bool parse_time(std::string_view s, int64_t* us) {
  s = trim(s);
  const size_t sp = s.find(' ');
  int64_t sec = 0;
  int64_t usec = 0;
  if (!parse_number(s.substr(0, sp), &sec) || sec > (int64_t{1} << 40)) return false;
  if (sp != std::string_view::npos && (!parse_number(s.substr(sp + 1), &usec) || usec >= 1000000)) return false;
  *us = sec * 1000000 + usec;
  return true;
}

enum class Segment { kEnvelope, kContent, kExtracted };

}  // namespace

absl::StatusOr<PostfixMessage> parse_postfix_queue_file(std::string_view file, std::string_view queue_id) {
  if (file.size() > kMaxPostfixQueueFile) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue file of ", file.size(), " octets is larger than ", kMaxPostfixQueueFile));
  }
  PostfixMessage m;
  m.queue_id = std::string(queue_id);
  m.content.reserve(file.size() + file.size() / 32);
  bool have_sender = false;
  bool have_time = false;
  bool partial_line = false;  // the last content record was an L
  Segment seg = Segment::kEnvelope;
  size_t at = 0;
  // A valid file visits each record (two octets at least) once.
  size_t budget = file.size() / 2 + 1;
  size_t kept = 0;  // data octets of the records visited
  Record r;
  for (;; at = r.next) {
    if (budget-- == 0) {
      return bad(at, "more records than the file can hold (a pointer loop)");
    }
    if (absl::Status s = read_record(file, at, &r); !s.ok()) {
      return s;
    }
    // Each record's data is read once in a valid file, so what is kept
    // never exceeds the file; a pointer loop over a large record would.
    kept += r.data.size();
    if (kept > file.size()) {
      return bad(at, "records read more than once (a pointer loop)");
    }
    if (r.type == 'p') {  // pointer: continue at the offset it names
      int64_t to = 0;
      if (!parse_number(r.data, &to)) {
        return bad(at, "malformed pointer record");
      }
      if (to != 0) {
        if (static_cast<uint64_t>(to) >= file.size()) {
          return bad(at, absl::StrCat("pointer to offset ", to, " past the end of the file"));
        }
        r.next = static_cast<size_t>(to);
      }
      continue;
    }
    if (seg == Segment::kContent) {
      switch (r.type) {
        case 'N':
          m.content.append(r.data.data(), r.data.size());
          m.content.append("\r\n");
          partial_line = false;
          break;
        case 'L':
          m.content.append(r.data.data(), r.data.size());
          partial_line = true;
          break;
        case 'w':  // padding
          break;
        case 'X':
          if (partial_line) m.content.append("\r\n");
          seg = Segment::kExtracted;
          break;
        default:
          return bad(at, absl::StrCat("record type '", av(std::string_view(&r.type, 1)), "' in the message content"));
      }
      continue;
    }
    switch (r.type) {
      case 'T':
        if (!have_time) {
          if (!parse_time(r.data, &m.arrival_us)) {
            return bad(at, "malformed arrival time record");
          }
          have_time = true;
        }
        break;
      case 'S':
        if (!have_sender) {
          m.sender = std::string(r.data);
          have_sender = true;
        }
        break;
      case 'R':
        if (m.recipients.size() >= kMaxPostfixRecipients) {
          return bad(at, absl::StrCat("more than ", kMaxPostfixRecipients, " recipients"));
        }
        if (r.data.empty()) {
          return bad(at, "empty recipient");
        }
        m.recipients.emplace_back(r.data);
        break;
      case 'D':  // delivered
      case '/':  // cancelled (a milter removed it)
        ++m.done_recipients;
        break;
      case 'M': {
        if (seg != Segment::kEnvelope) {
          return bad(at, "second message content record");
        }
        // Older files name the extracted segment's offset here; Postfix 3
        // leaves it empty (the C record has it). Content ends at X either way.
        int64_t extra = 0;
        if (!trim(r.data).empty() && (!parse_number(r.data, &extra) || static_cast<uint64_t>(extra) <= at ||
                                      static_cast<uint64_t>(extra) >= file.size())) {
          return bad(at, "message content record with a bad extracted-segment offset");
        }
        seg = Segment::kContent;
        break;
      }
      case 'X':
        return bad(at, "extracted segment before the message content");
      case 'N':
      case 'w':
        return bad(at, "content record outside the message content");
      case 'E':
        if (seg != Segment::kExtracted) {
          return bad(at, "end record before the message content");
        }
        if (!have_sender) {
          return bad(at, "no sender record");
        }
        return m;
      default:  // C, c, F, I, L (filter), O, W, A, K, >, f, d, r, e, P, V, DSN records: not needed here
        break;
    }
  }
}

}  // namespace ringmta::postfix
