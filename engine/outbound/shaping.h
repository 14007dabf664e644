// engine/outbound/shaping.h — traffic shaping settings and their pure logic:
// rates ("100/s", "20/min,max_burst=5"), the GCRA that enforces them, and
// the limits in force for one (egress source, site) queue, from the
// tables of the config file (names as KumoMTA's shaping.toml):
//
//   [shaping.default]                         every queue
//   [shaping.domain."example.com"]            the site example.com routes to
//   [shaping.domain."example.com".source."ip-1"]   that site, from ip-1
//
//   Rate r;  parse_rate("100/s", &r);         // false on a malformed rate
//   SiteLimits l = shaping.limits_for({"example.com"}, "ip-1", defaults);
//   int64_t wait_ns = gcra.take(r, now_ns);   // 0: go now; else wait that long
//
// The TOML is read in engine/config/shaping_file.cc; this header knows no
// file format, so the engine and the tests share it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringmta {

// Rate is `count` events per `period_ns`, with bursts of up to `burst`
// (KumoMTA's default burst is the count itself: "100/s" may send 100 at
// once after a quiet second, then one every 10 ms).
struct Rate {
  uint64_t count = 0;
  int64_t period_ns = 0;
  uint64_t burst = 0;
  bool operator==(const Rate&) const = default;
};

// parse_rate reads "N/UNIT" or "N/KUNIT" (s, sec, m, min, h, hour, d, day;
// "3/10min") with an optional ",max_burst=B". N and B are 1..10^9.
bool parse_rate(std::string_view text, Rate* out);
std::string format_rate(const Rate& r);

// parse_duration reads "30s", "10m", "2h", "1d" or a plain number of
// seconds; 0 < result <= 30 days.
bool parse_duration(std::string_view text, int64_t* out_ms);

// Gcra is the Generic Cell Rate Algorithm (a token bucket without a timer):
// one "theoretical arrival time" per limited thing.
struct Gcra {
  int64_t tat_ns = 0;
  // take: 0 and counts one event when it conforms at now_ns, else how long
  // until it would (and counts nothing).
  int64_t take(const Rate& r, int64_t now_ns);
};

// ShapingParams is one table's settings; unset fields inherit.
struct ShapingParams {
  std::optional<uint64_t> connection_limit;
  std::optional<Rate> max_connection_rate;
  std::optional<Rate> max_message_rate;
  std::optional<uint64_t> max_deliveries_per_connection;
  std::optional<uint64_t> max_recipients_per_message;
  // Layer `over` onto this: what over sets wins.
  void merge(const ShapingParams& over);
};

// SiteLimits: what a queue enforces; every field set.
struct SiteLimits {
  uint64_t connection_limit = 20;
  std::optional<Rate> max_connection_rate;
  std::optional<Rate> max_message_rate;
  uint64_t max_deliveries_per_connection = 1000;
  // RFC 5321 4.5.3.1.8: a server must take at least 100 recipients per
  // transaction, so 100 is the largest batch every receiver accepts.
  uint64_t max_recipients_per_message = 100;
  bool operator==(const SiteLimits&) const = default;
};

struct DomainRule {
  ShapingParams params;
  // mx_rollup: the rule applies to the domain's whole site (every domain
  // with the same MX hosts); false: to this domain alone, which is then a
  // site of its own.
  bool mx_rollup = true;
  std::map<std::string, ShapingParams, std::less<>> sources;
};

class BackoffRules;  // backoff_rules.h

struct Shaping {
  ShapingParams defaults;
  // By lower-case name; a hash map: routing looks a domain up per job.
  absl::flat_hash_map<std::string, DomainRule> domains;
  std::shared_ptr<const BackoffRules> rules;                // [[shaping.rule]], compiled; may be null

  const DomainRule* rule_for(std::string_view domain) const;
  // limits_for: base (the flags' defaults) < [shaping.default] < the rules
  // of `domains` (in name order) < their source tables for `source`.
  SiteLimits limits_for(const std::vector<std::string>& domains, std::string_view source,
                        const SiteLimits& base) const;
};

}  // namespace ringmta
