// tools/ctl/check_report.cc — the dns check's lines (check_report.h).
#include "tools/ctl/check_report.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {

const char* check_status_name(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "OK";
    case CheckStatus::kMissing:
      return "MISSING";
    case CheckStatus::kWrong:
      return "WRONG";
    case CheckStatus::kUnknown:
      return "UNKNOWN";
    case CheckStatus::kSkip:
      return "SKIP";
  }
  return "?";
}

void CheckReport::add(const CheckLine& line) {
  switch (line.status) {
    case CheckStatus::kOk:
      ++_ok;
      break;
    case CheckStatus::kMissing:
      ++_missing;
      break;
    case CheckStatus::kWrong:
      ++_wrong;
      break;
    case CheckStatus::kUnknown:
      ++_unknown;
      break;
    case CheckStatus::kSkip:
      ++_skip;
      break;
  }
  std::string text = check_status_name(line.status);
  text.resize(8, ' ');
  absl::StrAppend(&text, line.what, ": ", line.detail);
  if (!line.publish.empty()) {
    absl::StrAppend(&text, "; publish: ", line.publish);
  }
  _lines.push_back(line);
  if (_out != nullptr) {
    std::fprintf(_out, "%s\n", text.c_str());
    std::fflush(_out);
  }
}

void CheckReport::print_summary(std::string_view domain) const {
  if (_out == nullptr) {
    return;
  }
  std::string text =
      absl::StrCat(av(domain), ": ", _ok + _missing + _wrong + _unknown + _skip, " checks: ", _ok, " OK");
  for (auto [n, name] : {std::pair{_missing, "MISSING"}, std::pair{_wrong, "WRONG"}, std::pair{_unknown, "UNKNOWN"},
                         std::pair{_skip, "SKIP"}}) {
    if (n > 0) {
      absl::StrAppend(&text, ", ", n, " ", name);
    }
  }
  std::fprintf(_out, "%s\n", text.c_str());
}

}  // namespace ringmta::ctl
