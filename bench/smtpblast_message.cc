// bench/smtpblast_message.cc — see smtpblast_message.h.
#include "bench/smtpblast_message.h"

#include <unistd.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::blast {
namespace {

constexpr size_t kLineText = 76;  // octets before CRLF: well under 998

}  // namespace

MessageTemplate make_message(size_t size, std::string_view from, std::string_view to) {
  MessageTemplate t;
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  absl::StrAppend(&t.headers, "From: <", av(from), ">\r\nTo: <", av(to),
                  ">\r\nSubject: smtpblast test message\r\nDate: ", date, "\r\nMessage-ID: <");
  t.id_offset = t.headers.size();
  // The pid and start time keep ids unique across runs into one spool.
  absl::StrAppend(&t.headers, std::string(kIdDigits, '0'), ".", getpid(), ".", now,
                  "@smtpblast.test>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
  const size_t fixed = t.headers.size() + kBodyTail.size();
  size_t want = size > fixed ? size - fixed : 0;
  uint32_t line = 0;
  while (want > 0) {
    std::string text = absl::StrCat("line ", line++, " ");
    for (char c = 'a'; text.size() < kLineText; c = c == 'z' ? 'a' : static_cast<char>(c + 1)) {
      text.push_back(c);
    }
    // The last line takes exactly what is left (at least "x" + CRLF).
    if (want < text.size() + 2) {
      text.resize(want > 3 ? want - 2 : 1);
    }
    t.body.append(text).append("\r\n");
    want = want > text.size() + 2 ? want - text.size() - 2 : 0;
  }
  t.body.append(kBodyTail);
  return t;
}

void patch_message_id(std::string* headers, size_t offset, uint64_t n) {
  for (size_t i = kIdDigits; i-- > 0;) {
    (*headers)[offset + i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
}

}  // namespace ringmta::blast
