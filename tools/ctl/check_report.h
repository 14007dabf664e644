// tools/ctl/check_report.h — the lines `ringmta-ctl dns check` prints: one
// per check, its status first, so that a person reads it and a script
// greps it:
//
//   OK      DKIM s1._domainkey.example.com: publishes the rsa key of /etc/ringmta/dkim/example.com.s1.key
//   MISSING DMARC _dmarc.example.com: no v=DMARC1 record; publish: _dmarc.example.com. IN TXT "v=DMARC1; ..."
//
// OK, MISSING (a record to publish) and WRONG (a record to change) are the
// answers; UNKNOWN means the check could not tell (a DNS timeout or error,
// an SPF term that needs what a check does not know) and SKIP that it had
// nothing to check (no keys, no sending addresses). The command exits 0
// only when no line is MISSING, WRONG or UNKNOWN.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::ctl {

enum class CheckStatus { kOk, kMissing, kWrong, kUnknown, kSkip };

const char* check_status_name(CheckStatus s);

struct CheckLine {
  CheckStatus status = CheckStatus::kOk;
  std::string what;     // "SPF example.com", "FCrDNS 192.0.2.10 (source ip-1)"
  std::string detail;   // what was found, or what is wrong and why it matters
  std::string publish;  // MISSING/WRONG: the record to publish, zone-file form; may be empty
};

// CheckReport prints each line as it comes (a slow DNS server shows
// progress) and counts them.
class CheckReport {
 public:
  // out: where lines go; null keeps them only in lines() (the tests).
  explicit CheckReport(std::FILE* out) : _out(out) {}

  void add(const CheckLine& line);
  // passed: no line was MISSING, WRONG or UNKNOWN.
  bool passed() const { return _missing + _wrong + _unknown == 0; }
  // print_summary: "example.com: 9 checks: 7 OK, 1 WRONG, 1 MISSING".
  void print_summary(std::string_view domain) const;
  const std::vector<CheckLine>& lines() const { return _lines; }

 private:
  std::FILE* _out;
  std::vector<CheckLine> _lines;
  int _ok = 0, _missing = 0, _wrong = 0, _unknown = 0, _skip = 0;
};

}  // namespace ringmta::ctl
