// tests/fuzz/inject_request_fuzzer.cc — libFuzzer harness for
// parse_inject_request: the inject API's body comes from any HTTP client.
//
// Input: the body. Whatever it holds, the parser returns (no crash, no
// exception, no leak), and when it accepts:
//   - valid plus failed recipients are at most the limit;
//   - every kept email passes check_email again and is in stored form;
//   - every substitution name is valid and every value within the limit;
//   - a non-empty envelope sender is an address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/inject_request.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void check_substitutions(const ringmta::proto::Substitutions& s, const ringmta::proto::InjectLimits& l) {
  check(s.size() <= l.max_substitutions);
  for (const auto& [k, v] : s) {
    check(ringmta::proto::valid_variable_name(k));
    check(v.size() <= l.max_value_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringmta::proto::InjectLimits limits;
  limits.max_recipients = 50;  // keep each run short
  limits.max_substitutions = 8;
  limits.max_value_size = 256;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = ringmta::proto::parse_inject_request(body, limits);
  if (!r.ok()) {
    check(r.status().code() == absl::StatusCode::kInvalidArgument);
    check(!r.status().message().empty());
    return 0;
  }
  check(r->recipients.size() + r->failed_recipients.size() <= limits.max_recipients);
  check(r->recipients.size() + r->failed_recipients.size() > 0);
  for (const auto& rc : r->recipients) {
    std::string stored;
    bool utf8 = false;
    check(ringmta::proto::check_email(rc.email, &stored, &utf8).ok());
    check(stored == rc.email);
    check(!utf8 || r->needs_smtputf8);
    check_substitutions(rc.substitutions, limits);
  }
  check_substitutions(r->substitutions, limits);
  if (!r->envelope_sender.empty()) {
    std::string stored;
    bool utf8 = false;
    check(ringmta::proto::check_email(r->envelope_sender, &stored, &utf8).ok());
  }
  return 0;
}
