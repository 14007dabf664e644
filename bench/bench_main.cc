// Debian's libbenchmark-dev ships no benchmark_main.pc, so the entry point
// lives here once and every benchmark executable links it.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
