// engine/outbound/shaping.cc — rates, the GCRA and the limits of a queue
// (shaping.h).
#include "engine/outbound/shaping.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {
namespace {

constexpr int64_t kNsPerS = 1'000'000'000;
constexpr uint64_t kMaxCount = 1'000'000'000;

// unit_ns: nanoseconds in one "s", "min", "h" or "day" (and their short forms).
int64_t unit_ns(std::string_view unit) {
  if (unit == "s" || unit == "sec") {
    return kNsPerS;
  }
  if (unit == "m" || unit == "min") {
    return 60 * kNsPerS;
  }
  if (unit == "h" || unit == "hour") {
    return 3600 * kNsPerS;
  }
  if (unit == "d" || unit == "day") {
    return 86400 * kNsPerS;
  }
  return 0;
}

// leading_number: the leading digits of s as a number (none: 1 when
// optional, else false), the rest in *rest.
bool leading_number(std::string_view s, uint64_t* n, std::string_view* rest, bool optional) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++i;
  }
  if (i == 0) {
    *n = 1;
    *rest = s;
    return optional;
  }
  *rest = s.substr(i);
  return absl::SimpleAtoi(av(s.substr(0, i)), n);
}

}  // namespace

bool parse_rate(std::string_view text, Rate* out) {
  std::string_view s = sv(absl::StripAsciiWhitespace(av(text)));
  Rate r;
  std::string_view burst;
  if (size_t comma = s.find(','); comma != std::string_view::npos) {
    burst = sv(absl::StripAsciiWhitespace(av(s.substr(comma + 1))));
    s = s.substr(0, comma);
  }
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  std::string_view rest;
  if (!leading_number(s.substr(0, slash), &r.count, &rest, false) || !rest.empty() || r.count == 0 ||
      r.count > kMaxCount) {
    return false;
  }
  uint64_t mult = 0;
  if (!leading_number(s.substr(slash + 1), &mult, &rest, true) || mult == 0 || mult > 1000) {
    return false;
  }
  const int64_t unit = unit_ns(rest);
  if (unit == 0) {
    return false;
  }
  r.period_ns = unit * static_cast<int64_t>(mult);
  r.burst = r.count;
  if (!burst.empty()) {
    constexpr std::string_view kBurst = "max_burst=";
    if (!burst.starts_with(kBurst)) {
      return false;
    }
    if (!absl::SimpleAtoi(av(burst.substr(kBurst.size())), &r.burst) || r.burst == 0 || r.burst > kMaxCount) {
      return false;
    }
  }
  *out = r;
  return true;
}

std::string format_rate(const Rate& r) {
  std::string out = absl::StrCat(r.count, "/");
  if (r.period_ns % (86400 * kNsPerS) == 0) {
    absl::StrAppend(&out, r.period_ns == 86400 * kNsPerS ? "" : absl::StrCat(r.period_ns / (86400 * kNsPerS)), "day");
  } else if (r.period_ns % (3600 * kNsPerS) == 0) {
    absl::StrAppend(&out, r.period_ns == 3600 * kNsPerS ? "" : absl::StrCat(r.period_ns / (3600 * kNsPerS)), "h");
  } else if (r.period_ns % (60 * kNsPerS) == 0) {
    absl::StrAppend(&out, r.period_ns == 60 * kNsPerS ? "" : absl::StrCat(r.period_ns / (60 * kNsPerS)), "min");
  } else {
    absl::StrAppend(&out, r.period_ns == kNsPerS ? "" : absl::StrCat(r.period_ns / kNsPerS), "s");
  }
  if (r.burst != r.count) {
    absl::StrAppend(&out, ",max_burst=", r.burst);
  }
  return out;
}

bool parse_duration(std::string_view text, int64_t* out_ms) {
  std::string_view s = sv(absl::StripAsciiWhitespace(av(text)));
  uint64_t n = 0;
  std::string_view rest;
  if (!leading_number(s, &n, &rest, false) || n == 0) {
    return false;
  }
  const int64_t unit = rest.empty() ? kNsPerS : unit_ns(rest);
  if (unit == 0 || n > 30ull * 86400 * kNsPerS / static_cast<uint64_t>(unit)) {
    return false;
  }
  *out_ms = static_cast<int64_t>(n) * (unit / 1'000'000);
  return true;
}

int64_t Gcra::take(const Rate& r, int64_t now_ns) {
  // Emission interval T = period / count; a burst of B may arrive at once:
  // an event conforms while the theoretical arrival time is at most
  // (B - 1) * T ahead of now.
  const int64_t t = std::max<int64_t>(1, r.period_ns / static_cast<int64_t>(r.count));
  const int64_t tolerance = t * static_cast<int64_t>(r.burst - 1);
  const int64_t tat = std::max(tat_ns, now_ns);
  if (tat - now_ns > tolerance) {
    return tat - tolerance - now_ns;
  }
  tat_ns = tat + t;
  return 0;
}

void ShapingParams::merge(const ShapingParams& over) {
  if (over.connection_limit) {
    connection_limit = over.connection_limit;
  }
  if (over.max_connection_rate) {
    max_connection_rate = over.max_connection_rate;
  }
  if (over.max_message_rate) {
    max_message_rate = over.max_message_rate;
  }
  if (over.max_deliveries_per_connection) {
    max_deliveries_per_connection = over.max_deliveries_per_connection;
  }
  if (over.max_recipients_per_message) {
    max_recipients_per_message = over.max_recipients_per_message;
  }
}

const DomainRule* Shaping::rule_for(std::string_view domain) const {
  auto it = domains.find(av(domain));
  return it == domains.end() ? nullptr : &it->second;
}

SiteLimits Shaping::limits_for(const std::vector<std::string>& site_domains, std::string_view source,
                               const SiteLimits& base) const {
  ShapingParams p;
  p.merge(defaults);
  std::vector<const DomainRule*> rules;
  std::vector<std::string> names(site_domains);
  std::sort(names.begin(), names.end());
  for (const std::string& d : names) {
    if (const DomainRule* r = rule_for(d)) {
      p.merge(r->params);
      rules.push_back(r);
    }
  }
  for (const DomainRule* r : rules) {
    if (auto it = r->sources.find(source); it != r->sources.end()) {
      p.merge(it->second);
    }
  }
  SiteLimits l = base;
  l.connection_limit = p.connection_limit.value_or(base.connection_limit);
  l.max_connection_rate = p.max_connection_rate ? p.max_connection_rate : base.max_connection_rate;
  l.max_message_rate = p.max_message_rate ? p.max_message_rate : base.max_message_rate;
  l.max_deliveries_per_connection = p.max_deliveries_per_connection.value_or(base.max_deliveries_per_connection);
  l.max_recipients_per_message = p.max_recipients_per_message.value_or(base.max_recipients_per_message);
  return l;
}

}  // namespace ringmta
