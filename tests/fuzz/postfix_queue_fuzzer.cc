// tests/fuzz/postfix_queue_fuzzer.cc — libFuzzer harness for the Postfix
// queue file reader (tools/postfix/postfix_queue_file.h). Seeds:
// corpus/postfix_queue (files a real Postfix 3.7 wrote). Whatever the input:
//   - reading never crashes and ends (pointer loops included);
//   - a message read has at most kMaxPostfixRecipients recipients, none
//     empty, and content at most twice the file (data kept is bounded by
//     the file's size, CRLFs by the records visited, one per 2 octets);
//   - an error names the offset.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/runtime/absl_compat.h"
#include "tools/postfix/postfix_queue_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = ringmta::postfix::parse_postfix_queue_file(in, "FUZZ");
  if (m.ok()) {
    if (m->recipients.size() > ringmta::postfix::kMaxPostfixRecipients) std::abort();
    for (const auto& r : m->recipients) {
      if (r.empty()) std::abort();
    }
    if (m->content.size() > 2 * size) std::abort();
  } else {
    const std::string_view why = ringmta::sv(m.status().message());
    if (why.find("offset ") == std::string_view::npos && why.find("larger than") == std::string_view::npos) {
      std::abort();
    }
  }
  return 0;
}
