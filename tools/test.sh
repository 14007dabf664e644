#!/usr/bin/env bash
# tools/test.sh — install what the tests need, build, and run the whole suite:
#   1. unit + integration tests (meson test) on a release build,
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. the libFuzzer harnesses (clang) for a bounded time each.
#
#   sudo tools/test.sh                  # everything
#   FUZZ_SECONDS=60 tools/test.sh       # fuzz longer (default 15 s per harness)
#   tools/test.sh --quick               # step 1 only
#
# Ends with one line "tests: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
fuzz_seconds=${FUZZ_SECONDS:-15}
jobs=$(nproc)

tools/setup.sh || exit 1

passed=0
failed=0
# count_meson adds up a finished `meson test` run from its summary lines.
count_meson() {
  local log=$1 ok fail to
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
  to=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
  passed=$((passed + ${ok:-0}))
  failed=$((failed + ${fail:-0} + ${to:-0}))
  [[ -z "$ok" ]] && failed=$((failed + 1))  # the run itself did not finish
}

run_suite() {  # run_suite NAME BUILDDIR [meson setup args...]
  local name=$1 dir=$2
  shift 2
  echo "== $name: configure and build ($dir)"
  if [[ ! -f "$dir/build.ninja" ]]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; failed=$((failed + 1)); return; }
  fi
  if ! ninja -C "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"
    failed=$((failed + 1))
    return
  fi
  echo "== $name: meson test"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" 2>&1 | tee "$dir.test.log" | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped):"
  count_meson "$dir.test.log"
  # --print-errorlogs put each failing test's output in the log: show it,
  # so that a CI failure names the failing case.
  if grep -qE "^Fail: +[1-9]|^Timeout: +[1-9]" "$dir.test.log"; then
    grep -vE "^ *[0-9]+/[0-9]+ " "$dir.test.log" | tail -200
  fi
}

run_suite "release" build --buildtype=release
if ((quick == 0)); then
  # mimalloc is left out of sanitizer builds (engine/meson.build); so are the
  # Google Benchmark programs (smtpblast is built: the tests drive it). -O1 with
  # line tables only is what the ASan authors recommend, and it compiles in
  # half the time of -O2 -g (the build is most of CI's 90 minutes on 2 cores).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite "asan+ubsan" build-asan --buildtype=plain -Doptimization=1 -Dcpp_args=-g1 -Dc_args=-g1 \
    -Db_ndebug=false -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false

  echo "== fuzz: libFuzzer harnesses, ${fuzz_seconds}s each"
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dbenchmarks=false -Dtests=true --buildtype=debugoptimized \
      >build-fuzz.setup.log 2>&1 || { cat build-fuzz.setup.log; failed=$((failed + 1)); }
  fi
  fuzzers=(command data_decoder dkim_canon header_scan spf dns_record http_parse inject_request template feedback_report suppression csv maildrop postfix_queue)
  targets=()
  for f in "${fuzzers[@]}"; do targets+=("tests/fuzz/${f}_fuzzer"); done
  if [[ -f build-fuzz/build.ninja ]] && ninja -C build-fuzz -j"$jobs" "${targets[@]}" >build-fuzz.build.log 2>&1; then
    for f in "${fuzzers[@]}"; do
      corpus=$(mktemp -d)
      cp tests/fuzz/corpus/${f%_decoder}/* "$corpus"/ 2>/dev/null
      if build-fuzz/tests/fuzz/${f}_fuzzer -max_total_time="$fuzz_seconds" -max_len=4096 "$corpus" \
          >"build-fuzz/$f.log" 2>&1; then
        echo "fuzz $f: ok ($(grep -o 'Done [0-9]* runs' "build-fuzz/$f.log"))"
        passed=$((passed + 1))
      else
        echo "fuzz $f: FAILED"; tail -40 "build-fuzz/$f.log"
        failed=$((failed + 1))
      fi
      rm -rf "$corpus"
    done
  else
    tail -50 build-fuzz.build.log 2>/dev/null
    failed=$((failed + 1))
  fi
fi

echo "tests: $passed passed, $failed failed"
((failed == 0))
