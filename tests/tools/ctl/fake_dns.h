// tests/tools/ctl/fake_dns.h — a DnsLookup answered from a table, for the
// SPF evaluator and the dns check tests: a name without an entry is
// NXDOMAIN, and every question is counted.
//
//   FakeDns dns;
//   dns.txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
//   dns.a("mx.example.com", "192.0.2.25");
//   dns.fail("slow.example.com", RrType::kTxt, DnsStatus::kTimeout);
#pragma once

#include <map>
#include <string>
#include <utility>

#include "tools/ctl/dns_lookup.h"

namespace ringmta::ctl {

class FakeDns : public DnsLookup {
 public:
  DnsResult query(std::string_view name, RrType type) override {
    ++queries;
    auto it = _records.find({std::string(name), type});
    if (it != _records.end()) {
      return it->second;
    }
    // The name exists (some type was added for it): NODATA, else NXDOMAIN.
    for (const auto& [key, r] : _records) {
      if (key.first == name) {
        return {DnsStatus::kNoData, {}, ""};
      }
    }
    return {DnsStatus::kNxDomain, {}, ""};
  }

  void add(const std::string& name, RrType type, const std::string& value) {
    DnsResult& r = _records[{name, type}];
    r.status = DnsStatus::kOk;
    r.records.push_back(value);
  }
  void txt(const std::string& name, const std::string& v) { add(name, RrType::kTxt, v); }
  void a(const std::string& name, const std::string& v) { add(name, RrType::kA, v); }
  void aaaa(const std::string& name, const std::string& v) { add(name, RrType::kAaaa, v); }
  void mx(const std::string& name, const std::string& v) { add(name, RrType::kMx, v); }
  void ptr(const std::string& name, const std::string& v) { add(name, RrType::kPtr, v); }
  void fail(const std::string& name, RrType type, DnsStatus status) {
    _records[{name, type}] = {status, {}, status == DnsStatus::kTimeout ? "no answer (timeout)" : "SERVFAIL"};
  }

  int queries = 0;

 private:
  std::map<std::pair<std::string, RrType>, DnsResult> _records;
};

}  // namespace ringmta::ctl
