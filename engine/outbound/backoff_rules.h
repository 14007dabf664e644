// engine/outbound/backoff_rules.h — automatic backoff ([[shaping.rule]]):
// regexes over the replies of receiving servers ("CODE ENHANCED TEXT",
// e.g. "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred"),
// each with what to do to the (source, site) queue that got it: suspend it,
// throttle it, or bounce the recipient, for a while (KumoMTA's Traffic
// Shaping Automation, PowerMTA's backoff mode).
//
//   auto rules = BackoffRules::build(std::move(parsed));   // compiles once
//   std::vector<size_t> hit;
//   rules->match("421 4.7.0 rate limited", /*internal=*/false, &hit);
//
// Every pattern of every rule is in one RE2::Set, so a reply is scanned
// once however many rules there are, in time linear in its length (RE2
// never backtracks: a hostile reply cannot stall a shard). Replies longer
// than kMaxMatchBytes are matched on their first kMaxMatchBytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/outbound/shaping.h"

namespace re2 {
class RE2;
}

namespace ringmta {

enum class BackoffAction : uint8_t { kSuspend, kThrottle, kBounce };
const char* backoff_action_name(BackoffAction a);

struct BackoffRule {
  std::string name;                 // "rule 1" (its place in the file), for logs and events
  std::vector<std::string> regex;   // any of them matching is a match
  BackoffAction action = BackoffAction::kSuspend;
  int64_t duration_ms = 0;
  ShapingParams throttle;           // kThrottle: the limits while it lasts
  std::string domain;               // "" = every site; else the sites mail for it goes to
  std::optional<Rate> trigger;      // act only after `count` matches within `period`
  bool match_internal = false;      // also replies ringmta makes (refused, timed out)
  std::string tenant;               // kSuspend: only that tenant's mail
};

class BackoffRules {
 public:
  static constexpr size_t kMaxMatchBytes = 1024;

  // build compiles every regex; an error names the rule and the pattern.
  static absl::StatusOr<std::shared_ptr<const BackoffRules>> build(std::vector<BackoffRule> rules);
  ~BackoffRules();

  // match appends the index of every rule that matches `line` (internal:
  // ringmta made the reply itself).
  void match(std::string_view line, bool internal, std::vector<size_t>* out) const;
  const std::vector<BackoffRule>& rules() const { return _rules; }
  bool empty() const { return _rules.empty(); }

 private:
  BackoffRules() = default;
  std::vector<BackoffRule> _rules;
  struct Matcher;
  std::unique_ptr<Matcher> _matcher;
};

}  // namespace ringmta
