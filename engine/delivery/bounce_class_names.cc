// engine/delivery/bounce_class_names.cc — the bounce classes' names
// (bounce_class.h), apart from the rules and their RE2 matching so that
// what only needs the names (the suppression list's JSON, its fuzzer)
// does not pull RE2 and the rules file in.
#include <array>

#include "engine/delivery/bounce_class.h"

namespace ringmta {
namespace {

constexpr std::array<std::string_view, kBounceClassCount> kNames = {
    "Uncategorized",   "InvalidRecipient", "BadDomain",        "InactiveMailbox",      "QuotaIssues",
    "MessageTooLarge", "ContentRelated",   "SpamBlock",        "SpamContent",          "PolicyRelated",
    "AuthenticationFailed", "RelayDenied", "RoutingErrors",    "DNSFailure",           "NoAnswerFromHost",
    "BadConnection",   "ProtocolErrors",   "TransientFailure", "MessageExpired",
};
static_assert(static_cast<size_t>(BounceClass::kMessageExpired) + 1 == kBounceClassCount);

}  // namespace

std::string_view bounce_class_name(BounceClass c) {
  const auto i = static_cast<size_t>(c);
  return i < kNames.size() ? kNames[i] : kNames[0];
}

bool parse_bounce_class(std::string_view name, BounceClass* out) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) {
      *out = static_cast<BounceClass>(i);
      return true;
    }
  }
  return false;
}

}  // namespace ringmta
