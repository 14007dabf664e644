// bench/suppression_benchmark.cc — what the suppression list costs per RCPT
// (engine/suppression/suppression_store.h): one Reader::find, as a shard
// does it, on stores of 1 M and 10 M entries (addresses over 10,000
// domains, plus 1,000 domain entries), for addresses that are there and
// addresses that are not (the common case: most recipients are not
// suppressed), and with a tenant. And the store side of an import: one
// commit of 10,000 new entries.
//
//   build/bench/suppression_benchmark                       # 1 M and 10 M
//   build/bench/suppression_benchmark --benchmark_filter=/1000000
//
// The stores are built once into $RINGMTA_BENCH_DIR (default /tmp) and
// kept (ringmta-suppression-bench-N/): building 10 M entries takes about a
// minute, a run after that seconds. The pages are in the page cache after
// the first pass, as they are on a server whose list is read all day, and
// each probe's pages are mapped before the timed loop (see lookup()).
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "engine/suppression/suppression_store.h"

namespace ringmta {
namespace {

std::string address(uint64_t i) {
  return "subscriber" + std::to_string(i) + "@list" + std::to_string(i % 10000) + ".example.com";
}

SuppressionStore& store_of(int64_t n) {
  static std::map<int64_t, std::unique_ptr<SuppressionStore>> stores;
  auto it = stores.find(n);
  if (it != stores.end()) return *it->second;
  const char* base = std::getenv("RINGMTA_BENCH_DIR");
  const std::string dir = std::string(base ? base : "/tmp") + "/ringmta-suppression-bench-" + std::to_string(n);
  auto s = SuppressionStore::open(dir, 16ull << 30);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
    std::exit(1);
  }
  auto reader = (*s)->reader();
  if (reader->counts().addresses < static_cast<uint64_t>(n)) {
    std::fprintf(stderr, "building %lld entries in %s ...\n", static_cast<long long>(n), dir.c_str());
    std::vector<SuppressionChange> batch;
    for (int64_t i = 0; i < n; ++i) {
      SuppressionChange c;
      c.entry.local = "subscriber" + std::to_string(i);
      c.entry.domain = "list" + std::to_string(i % 10000) + ".example.com";
      c.entry.reason = i % 10 == 0 ? SuppressionReason::kComplaint : SuppressionReason::kBounce;
      c.entry.bounce_class = BounceClass::kInvalidRecipient;
      c.entry.time = absl::FromUnixSeconds(1764806400 + i);
      c.entry.tenant = i % 100 == 0 ? "tenant" + std::to_string(i % 7) : "";
      batch.push_back(std::move(c));
      if (batch.size() == 200000 || i + 1 == n) {
        if (absl::Status st = (*s)->write(batch); !st.ok()) {
          std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
          std::exit(1);
        }
        batch.clear();
      }
    }
    for (int d = 0; d < 1000; ++d) {
      SuppressionChange c;
      c.entry.domain_only = true;
      c.entry.domain = "blocked" + std::to_string(d) + ".example.net";
      batch.push_back(std::move(c));
    }
    (void)(*s)->write(batch);
  }
  // The writer thread builds the Bloom filter at open: wait for it, or the
  // first lookups would walk the tree for what the filter answers.
  while (!(*s)->filter_ready()) absl::SleepFor(absl::Milliseconds(10));
  SuppressionStore& ref = **s;
  stores[n] = std::move(*s);
  return ref;
}

// Probe addresses in random order, so that each lookup walks a different
// path of the tree (a sequential walk would flatter the cache).
// present_per_100: how many in 100 probes are on the list.
std::vector<std::string> probes(int64_t n, int present_per_100) {
  std::mt19937_64 rng(42);
  std::vector<std::string> out;
  for (int i = 0; i < 65536; ++i) {
    const uint64_t k = rng() % static_cast<uint64_t>(n);
    const bool present = static_cast<int>(rng() % 100) < present_per_100;
    // A miss is a neighbour of an entry ("subscriberK@other...", next to
    // "subscriberK@list..."), so misses spread over the whole tree as
    // real recipients do.
    out.push_back(present ? address(k) : "subscriber" + std::to_string(k) + "@other" + std::to_string(k % 10000) +
                                             ".example.com");
  }
  return out;
}

void lookup(benchmark::State& state, int present, std::string_view tenant) {
  SuppressionStore& s = store_of(state.range(0));
  auto reader = s.reader();
  const std::vector<std::string> addrs = probes(state.range(0), present);
  SuppressionEntry e;
  // One pass first: a daemon's reader has long since mapped the pages it
  // touches (the first touch of each 4 KiB page of the map is a page fault,
  // once per process); the pass makes this loop see the same.
  for (const std::string& a : addrs) reader->find(a, tenant, &e);
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += reader->find(addrs[i++ & 65535], tenant, &e);
  }
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}

void BM_LookupHit(benchmark::State& state) { lookup(state, 100, ""); }
void BM_LookupMiss(benchmark::State& state) { lookup(state, 0, ""); }
void BM_LookupMissTenant(benchmark::State& state) { lookup(state, 0, "tenant3"); }
// A campaign to a cleaned list: 2 recipients in 100 are suppressed.
void BM_LookupTwoPercent(benchmark::State& state) { lookup(state, 2, ""); }
BENCHMARK(BM_LookupHit)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_LookupMiss)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_LookupMissTenant)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_LookupTwoPercent)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kNanosecond);

// One commit of 10,000 new addresses into the 1 M store (what each POST of
// an import costs the writer), durable (two fsyncs) when it returns.
void BM_Commit10k(benchmark::State& state) {
  SuppressionStore& s = store_of(1000000);
  static uint64_t next = 0;
  for (auto _ : state) {
    std::vector<SuppressionChange> batch;
    for (int i = 0; i < 10000; ++i, ++next) {
      SuppressionChange c;
      c.entry.local = "imported" + std::to_string(next);
      c.entry.domain = "import" + std::to_string(next % 997) + ".example.org";
      batch.push_back(std::move(c));
    }
    if (!s.write(batch).ok()) state.SkipWithError("write failed");
  }
  state.counters["entries_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 10000, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Commit10k)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace ringmta


