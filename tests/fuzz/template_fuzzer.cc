// tests/fuzz/template_fuzzer.cc — libFuzzer harness for Template: the
// content of an inject request is a template from the sender, and values
// come per recipient.
//
// Input: "value \0 template". The template is parsed as a raw message and
// rendered with every variable's value set to the given value. Whatever
// the input:
//   - the output's line ends are all CRLF (no bare CR or LF reaches the
//     spool);
//   - render fails exactly when the value has CR or LF and some variable
//     is header-bound (header injection is refused, nothing else is);
//   - on success the header section has as many lines as the template's
//     own (a value never adds a header line);
//   - with no variables the output is the normalized template.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/template.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

size_t lines(std::string_view h) {
  size_t n = 0;
  for (size_t i = 0; (i = h.find("\r\n", i)) != std::string_view::npos; i += 2) {
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view value = nul == std::string_view::npos ? std::string_view() : in.substr(0, nul);
  std::string_view text = nul == std::string_view::npos ? in : in.substr(nul + 1);
  using ringmta::proto::Template;
  Template t = Template::parse(text, ringmta::proto::TemplateKind::kRawMessage);
  ringmta::proto::Substitutions subs;
  bool header_bound = false;
  for (const auto& s : t.segments()) {
    if (s.variable) {
      check(ringmta::proto::valid_variable_name(s.text));
      subs[s.text] = std::string(value);
      header_bound |= s.in_header;
    }
  }
  std::string out;
  absl::Status st = t.render(subs, {}, &out);
  const bool breaks = value.find_first_of("\r\n") != std::string_view::npos;
  check(st.ok() == !(breaks && header_bound));
  if (!st.ok()) {
    return 0;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') {
      check(i + 1 < out.size() && out[i + 1] == '\n');
    } else if (out[i] == '\n') {
      check(i > 0 && out[i - 1] == '\r');
    }
  }
  std::string normalized;
  ringmta::proto::append_crlf(text, &normalized);
  if (!t.has_variables()) {
    check(out == normalized);
  }
  if (!breaks) {
    check(lines(out) == lines(normalized));
  }
  return 0;
}
