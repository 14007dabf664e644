// bench/engine_benchmark.cc — the engine's hot paths that are not I/O: the
// SPSC queue shards hand work through (one thread, and two threads
// transferring in batches as the shard loop does).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "engine/runtime/spsc_queue.h"

namespace ringmta {
namespace {

// Push a batch, publish once, pop it: the cost per item on one thread.
void BM_SpscPushPop(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  SpscQueue<uint64_t> q(4096);
  uint64_t sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      q.try_push(uint64_t(i));
    }
    q.publish();
    while (auto v = q.try_pop()) {
      sum += *v;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_SpscPushPop)->Arg(1)->Arg(16)->Arg(256);

// A producer thread and a consumer thread, batches of 32 published at once:
// items per second across cores (the machine's cache-line transfer cost).
void BM_SpscTwoThreads(benchmark::State& state) {
  constexpr uint64_t kItems = 1 << 20;
  for (auto _ : state) {
    SpscQueue<uint64_t> q(4096);
    std::thread producer([&] {
      uint64_t next = 0;
      while (next < kItems) {
        for (int i = 0; i < 32 && next < kItems && q.try_push(uint64_t{next}); ++i) {
          ++next;
        }
        q.publish();
      }
    });
    uint64_t got = 0;
    while (got < kItems) {
      if (q.try_pop()) {
        ++got;
      }
    }
    producer.join();
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}
BENCHMARK(BM_SpscTwoThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace ringmta
