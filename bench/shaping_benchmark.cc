// bench/shaping_benchmark.cc — the per-message work traffic shaping adds,
// without I/O: finding a domain's rule among 1,000, picking an egress
// source by weight, a message-rate check, and matching a failure reply
// against the backoff rules (bench/shaping_compare.sh measures the same
// end to end, where the machine's noise is larger than this).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/outbound/backoff_rules.h"
#include "engine/outbound/egress.h"
#include "engine/outbound/shaping.h"

namespace ringmta {
namespace {

Shaping thousand_rules() {
  Shaping s;
  for (int i = 0; i < 1000; ++i) {
    s.domains[absl::StrCat("d", i, ".bench.test")].params.max_message_rate = Rate{1000000, 1'000'000'000, 1000000};
  }
  return s;
}

// Routing asks, per job, whether the recipients' domain has a rule.
void BM_ShapingRuleLookup(benchmark::State& state) {
  const Shaping s = thousand_rules();
  std::vector<std::string> names;
  for (int i = 0; i < 2000; i += 7) {
    names.push_back(absl::StrCat("d", i, ".bench.test"));  // half of them without a rule
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    found += s.rule_for(names[i++ % names.size()]) != nullptr;
  }
  benchmark::DoNotOptimize(found);
}
BENCHMARK(BM_ShapingRuleLookup);

// The origin picks a source per message from its pool.
void BM_PoolCursorNext(benchmark::State& state) {
  Egress e;
  for (const char* name : {"ip-1", "ip-2", "ip-3"}) {
    EgressSource src;
    src.name = name;
    e.sources.push_back(std::move(src));
  }
  e.pools.push_back(EgressPool{"a", {{0, 3}, {1, 1}, {2, 1}}});
  e.default_pool = e.pools.back().name;
  PoolCursor cursor;
  size_t n = 0;
  for (auto _ : state) {
    const EgressPool* p = e.pool_for("", "sender.test");
    n += cursor.next(*p, e).name.size();
  }
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_PoolCursorNext);

// A site checks its message rate per transaction.
void BM_GcraTake(benchmark::State& state) {
  const Rate r{1000000, 1'000'000'000, 1000000};
  Gcra g;
  int64_t now = 0, waits = 0;
  for (auto _ : state) {
    waits += g.take(r, now += 1000);
  }
  benchmark::DoNotOptimize(waits);
}
BENCHMARK(BM_GcraTake);

// A failure reply is matched against every backoff rule at once (RE2::Set);
// successes never are.
void BM_BackoffMatchFailure(benchmark::State& state) {
  std::vector<BackoffRule> rules;
  for (const char* re : {"\\[TSS04\\]", "^421 4\\.7\\.0 .*rate", "4\\.7\\.650", "\\(S3150\\)", "\\[HM08\\]"}) {
    BackoffRule r;
    r.name = "rule";
    r.regex.push_back(re);
    r.duration_ms = 60000;
    rules.push_back(r);
  }
  auto built = BackoffRules::build(std::move(rules));
  const std::string line = "451 4.3.0 Temporary failure, please try again later (mailbox busy)";
  std::vector<size_t> hit;
  for (auto _ : state) {
    hit.clear();
    (*built)->match(line, false, &hit);
  }
  benchmark::DoNotOptimize(hit);
}
BENCHMARK(BM_BackoffMatchFailure);

}  // namespace
}  // namespace ringmta
