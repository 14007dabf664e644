// tests/fuzz/maildrop_fuzzer.cc — libFuzzer harness for parse_maildrop: a
// maildrop directory may be writable by every local user, so the pickup
// reads whatever a file holds.
//
// Input: a file's bytes. Whatever it holds, the parser returns (no crash,
// no leak), and when it accepts:
//   - the recipients are at most kMaxMaildropRecipients, and the content is
//     a view into the input;
//   - an envelope the writer accepts (maildrop_file) parses back to the
//     same envelope and content.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "spool/maildrop.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ringmta::spool;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<MaildropMessage> m = parse_maildrop(in);
  if (!m.ok()) {
    return 0;
  }
  check(m->envelope.recipients.size() <= kMaxMaildropRecipients);
  check(m->content.data() >= in.data() && m->content.data() + m->content.size() == in.data() + in.size());
  absl::StatusOr<std::string> again = maildrop_file(m->envelope, m->content);
  if (again.ok()) {
    absl::StatusOr<MaildropMessage> back = parse_maildrop(*again);
    check(back.ok());
    check(back->envelope.sender == m->envelope.sender);
    check(back->envelope.recipients == m->envelope.recipients);
    check(back->envelope.arrival_us == m->envelope.arrival_us);
    check(back->envelope.origin == m->envelope.origin);
    check(back->content == m->content);
  }
  return 0;
}
