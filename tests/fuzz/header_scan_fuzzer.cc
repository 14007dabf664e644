// tests/fuzz/header_scan_fuzzer.cc — libFuzzer harness for scan_headers and
// strip_ranges: the header scan of every message a client sends, which also
// takes ringmta's control headers (X-Ringmta-Pool/Tenant/Campaign) out.
//
// Input: the body as the session stores it. Whatever it holds:
//   - the control ranges are ordered, disjoint and inside the body;
//   - stripping removes exactly their bytes, and what is left has no
//     control header (the scan of the stripped body finds none);
//   - each value is at most kControlValueMax octets of printable ASCII.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/header_scan.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_value(const std::string& v) {
  check(v.size() <= ringmta::proto::kControlValueMax);
  for (char c : v) {
    check(c >= 32 && c < 127);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  ringmta::proto::HeaderScan s = ringmta::proto::scan_headers(body);
  size_t last = 0, removed = 0;
  for (const auto& [begin, end] : s.control) {
    check(begin >= last && begin < end && end <= body.size());
    removed += end - begin;
    last = end;
  }
  check_value(s.pool);
  check_value(s.tenant);
  check_value(s.campaign);
  const size_t before = body.size();
  ringmta::proto::strip_ranges(s.control, &body);
  check(body.size() == before - removed);
  check(ringmta::proto::scan_headers(body).control.empty());
  return 0;
}
