// bench/metrics_benchmark.cc — what a /metrics scrape costs the shard that
// serves it (engine/observe/metrics.h): read every shard's snapshot from
// the board and render the Prometheus text, with 10,000 site queues spread
// over the shards (the top 50 named, the rest summed as site="other").
// And what publishing costs a shard: one snapshot every 250 ms.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/observe/metrics.h"

namespace ringmta {
namespace {

std::shared_ptr<ShardSnapshot> snapshot(unsigned shard, unsigned shards, size_t sites) {
  auto s = std::make_shared<ShardSnapshot>();
  s->shard = shard;
  s->messages_received = 1000000 + shard;
  auto depths = std::make_shared<std::vector<SiteDepth>>();
  for (size_t i = shard; i < sites; i += shards) {
    depths->push_back(SiteDepth{"mx:mx" + std::to_string(i) + ".example.net", "", i % 97});
  }
  s->sites = std::move(depths);
  for (int i = 0; i < 1000; ++i) {
    s->loop_iteration.observe(0.00001 * (i % 300));
    s->spool_sync.observe(0.0001 * (i % 50));
  }
  return s;
}

void BM_Scrape(benchmark::State& state) {
  const auto shards = static_cast<unsigned>(state.range(0));
  const auto sites = static_cast<size_t>(state.range(1));
  MetricsBoard board(shards);
  for (unsigned i = 0; i < shards; ++i) {
    board.publish(i, snapshot(i, shards, sites));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = render_prometheus(board.read(), MetricsExtra{.spool_bytes = 1, .now_s = 2});
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)->Args({2, 10000})->Args({16, 10000})->Args({16, 100})->Unit(benchmark::kMicrosecond);

void BM_Publish(benchmark::State& state) {
  MetricsBoard board(1);
  auto sites = std::make_shared<const std::vector<SiteDepth>>();
  BucketHistogram loop{kLoopBounds};
  for (auto _ : state) {
    auto s = std::make_shared<ShardSnapshot>();
    s->loop_iteration = loop;
    s->sites = sites;
    board.publish(0, std::move(s));
  }
}
BENCHMARK(BM_Publish)->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace ringmta
