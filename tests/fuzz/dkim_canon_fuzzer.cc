// tests/fuzz/dkim_canon_fuzzer.cc — libFuzzer harness for what DKIM signing
// reads of a client's message: split_header_fields, canon_header,
// canon_body (both canonicalizations) and from_domain.
//
// Input: any bytes, made into a message as the session stores it (a bare
// CR or LF becomes CRLF, as the session does). Whatever it holds:
//   - the fields are consecutive from the start, each begins with its name,
//     and the body starts at or after the last one;
//   - a relaxed field is "name:value" CRLF with a lower-case name, no other
//     CR or LF, no WSP run and no WSP before the CRLF; a simple one is the
//     field as it was;
//   - a relaxed body is empty or ends in one CRLF, no line has trailing WSP
//     or a WSP run; canonicalizing a canonical body changes nothing (both
//     kinds);
//   - the From: domain is lower case without white space.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/dkim_canon.h"

namespace {

using ringmta::proto::Canon;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::string body_of(Canon c, std::string_view in) {
  std::string out;
  ringmta::proto::canon_body(c, in, [&](std::string_view p) { out.append(p); });
  return out;
}

bool wsp(char c) { return c == ' ' || c == '\t'; }

void check_relaxed_lines(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      check(i + 1 < s.size() && s[i + 1] == '\n');
      check(i == 0 || !wsp(s[i - 1]));
    }
    check(s[i] != '\t');
    check(!(s[i] == ' ' && i + 1 < s.size() && s[i + 1] == ' '));
  }
}

}  // namespace

// crlf: what the session stores: every line end CRLF.
static std::string crlf(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r' || in[i] == '\n') {
      out.append("\r\n");
      i += in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n' ? 1 : 0;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string stored = crlf(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string_view msg(stored);
  size_t body_start = 0;
  const std::vector<ringmta::proto::HeaderField> fields = ringmta::proto::split_header_fields(msg, &body_start);
  size_t at = 0;
  for (const ringmta::proto::HeaderField& f : fields) {
    check(f.raw.data() == msg.data() + at && f.raw.substr(0, f.name.size()) == f.name && !f.name.empty());
    at += f.raw.size();
    std::string simple, relaxed;
    ringmta::proto::canon_header(Canon::kSimple, f, &simple);
    check(simple == f.raw);
    ringmta::proto::canon_header(Canon::kRelaxed, f, &relaxed);
    check(relaxed.size() >= 3 && relaxed.compare(relaxed.size() - 2, 2, "\r\n") == 0);
    const std::string_view line(relaxed.data(), relaxed.size() - 2);
    check(line.find_first_of("\r\n") == std::string_view::npos);
    check(line.find(':') == f.name.size());
    for (char c : line.substr(0, f.name.size())) {
      check(!(c >= 'A' && c <= 'Z'));
    }
    check_relaxed_lines(relaxed);
  }
  check(body_start >= at && body_start <= msg.size());

  const std::string_view body = msg.substr(body_start);
  const std::string relaxed = body_of(Canon::kRelaxed, body);
  check(relaxed.empty() || (relaxed.size() >= 2 && relaxed.compare(relaxed.size() - 2, 2, "\r\n") == 0));
  check(relaxed.size() < 4 || relaxed.compare(relaxed.size() - 4, 4, "\r\n\r\n") != 0);
  check_relaxed_lines(relaxed);
  check(body_of(Canon::kRelaxed, relaxed) == relaxed);
  const std::string simple = body_of(Canon::kSimple, body);
  check(simple.size() >= 2 && simple.compare(simple.size() - 2, 2, "\r\n") == 0);
  check(body_of(Canon::kSimple, simple) == simple);

  for (char c : ringmta::proto::from_domain(fields)) {
    check(!(c >= 'A' && c <= 'Z') && c != ' ' && c != '\t' && c != '\r' && c != '\n');
  }
  return 0;
}
