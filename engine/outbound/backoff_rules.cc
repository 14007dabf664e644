// engine/outbound/backoff_rules.cc — compiling and matching the backoff
// rules (backoff_rules.h).
#include "engine/outbound/backoff_rules.h"

#include <algorithm>

#include <re2/re2.h>
#include <re2/set.h>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

struct BackoffRules::Matcher {
  explicit Matcher(const RE2::Options& o) : set(o, RE2::UNANCHORED) {}
  RE2::Set set;
  std::vector<size_t> rule_of;  // pattern index -> rule index
};

const char* backoff_action_name(BackoffAction a) {
  switch (a) {
    case BackoffAction::kSuspend:
      return "suspend";
    case BackoffAction::kThrottle:
      return "throttle";
    case BackoffAction::kBounce:
      return "bounce";
  }
  return "?";
}

BackoffRules::~BackoffRules() = default;

absl::StatusOr<std::shared_ptr<const BackoffRules>> BackoffRules::build(std::vector<BackoffRule> rules) {
  std::shared_ptr<BackoffRules> out(new BackoffRules());
  out->_rules = std::move(rules);
  if (out->_rules.empty()) {
    return std::shared_ptr<const BackoffRules>(std::move(out));
  }
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);  // bounds the compiled program (and the DFA cache)
  out->_matcher = std::make_unique<Matcher>(o);
  for (size_t i = 0; i < out->_rules.size(); ++i) {
    for (const std::string& re : out->_rules[i].regex) {
      // Each pattern is checked alone first, so the error names it.
      RE2 one(re, o);
      if (!one.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(out->_rules[i].name, ": regex '", re, "': ", one.error()));
      }
      std::string err;
      if (out->_matcher->set.Add(re, &err) < 0) {
        return absl::InvalidArgumentError(absl::StrCat(out->_rules[i].name, ": regex '", re, "': ", err));
      }
      out->_matcher->rule_of.push_back(i);
    }
  }
  if (!out->_matcher->set.Compile()) {
    return absl::InvalidArgumentError("shaping rules: the regexes together are too large to compile");
  }
  return std::shared_ptr<const BackoffRules>(std::move(out));
}

void BackoffRules::match(std::string_view line, bool internal, std::vector<size_t>* out) const {
  if (!_matcher) {
    return;
  }
  std::vector<int> hits;
  const std::string_view text = line.substr(0, kMaxMatchBytes);
  if (!_matcher->set.Match(re2::StringPiece(text.data(), text.size()), &hits)) {
    return;
  }
  for (int p : hits) {
    const size_t rule = _matcher->rule_of[static_cast<size_t>(p)];
    if (internal && !_rules[rule].match_internal) {
      continue;
    }
    if (std::find(out->begin(), out->end(), rule) == out->end()) {
      out->push_back(rule);
    }
  }
}

}  // namespace ringmta
