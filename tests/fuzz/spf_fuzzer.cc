// tests/fuzz/spf_fuzzer.cc — libFuzzer harness for ringmta-ctl's SPF code:
// parse_spf, check_host, analyze_spf and suggest_spf (tools/ctl/spf.h,
// spf_eval.h, spf_macro.h), over records from strangers' DNS.
//
// Input: one TXT record. The DNS here answers every TXT question with that
// same record, so its includes and redirects loop back into it, and every
// A/AAAA/MX/PTR question with a record that matches, so every mechanism
// runs. Whatever it holds:
//   - evaluation ends, within RFC 7208's 10 DNS-querying terms (+1, the one
//     that is refused);
//   - a record that parses is an SPF record, and the suggested record built
//     from it parses and ends in an "all".
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/ctl/spf.h"
#include "tools/ctl/spf_eval.h"
#include "tools/ctl/spf_policy.h"

namespace {

using namespace ringmta::ctl;

// check: abort, naming what failed, so that a crash report says which.
#define check(ok)                                                                 \
  do {                                                                            \
    if (!(ok)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #ok); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

class EchoDns : public DnsLookup {
 public:
  explicit EchoDns(std::string txt) : _txt(std::move(txt)) {}
  DnsResult query(std::string_view name, RrType type) override {
    check(++_queries < 1000);  // evaluation must end long before this
    switch (type) {
      case RrType::kTxt:
        return {DnsStatus::kOk, {_txt}, ""};
      case RrType::kA:
        return {DnsStatus::kOk, {"192.0.2.1"}, ""};
      case RrType::kAaaa:
        return {DnsStatus::kOk, {"2001:db8::1"}, ""};
      case RrType::kMx:
        return {DnsStatus::kOk, {"mx.example.com"}, ""};
      case RrType::kPtr:
        return {DnsStatus::kOk, {std::string(name.substr(0, 20)) + ".example.com"}, ""};
    }
    return {};
  }

 private:
  std::string _txt;
  int _queries = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string txt(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<SpfRecord> r = parse_spf(txt);
  check(!r.ok() || is_spf_record(txt));
  for (const char* ip : {"192.0.2.1", "2001:db8::1", "198.51.100.7"}) {
    EchoDns dns(txt);
    SpfVerdict v = check_host({.ip = *IpAddress::parse(ip), .domain = "example.com", .helo = "mta.example.com"}, dns);
    check(v.dns_terms <= kSpfMaxDnsTerms + 1);
  }
  if (r.ok()) {
    EchoDns dns(txt);
    SpfPolicy p = analyze_spf("example.com", *r, dns);
    check(p.dns_terms <= kSpfMaxDnsTerms + 1);
    const std::string suggested = suggest_spf({txt}, {*IpAddress::parse("192.0.2.10")}, false);
    absl::StatusOr<SpfRecord> back = parse_spf(suggested);
    check(back.ok() && back->has_all());
  }
  return 0;
}
