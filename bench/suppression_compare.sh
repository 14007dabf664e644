#!/usr/bin/env bash
# bench/suppression_compare.sh — what the suppression list costs, side by
# side in one run:
#
#   bench/suppression_compare.sh [BUILD_DIR] [SECONDS] [ROUNDS] [ENTRIES]
#   defaults:                    build       5         3        1000000
#   env: SUP_SHARDS (ringmta --shards, default 2), SUP_CONNS (20)
#
# 1. Import: ENTRIES addresses from a CSV file through `ringmta-ctl suppress
#    import` into a running ringmta (batches of 10,000, each answered once
#    durable): seconds and entries per second.
# 2. Relaying (smtpblast -> ringmta -> smtpblast sink, 1 KB messages spread
#    over 1,000 recipient domains) with an empty suppression list and with
#    the ENTRIES-entry one, rounds alternating: messages per second and
#    ringmta's CPU (utime + stime, all threads) per message. Every RCPT and
#    every dispatch looks its recipient up.
# 3. The lookup itself: bench/suppression_benchmark at 1 M and 10 M entries.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
rounds=${3:-3}
entries=${4:-1000000}
shards=${SUP_SHARDS:-2}
conns=${SUP_CONNS:-20}
here=$(cd "$(dirname "$0")" && pwd)
ringmta=$build/engine/ringmta
smtpblast=$build/bench/smtpblast
ctl=$build/tools/ctl/ringmta-ctl
for b in "$ringmta" "$smtpblast" "$ctl" "$build/bench/suppression_benchmark"; do
  [[ -x $b ]] || { echo "suppression_compare: no $b: build first (ninja -C $build)" >&2; exit 1; }
done
. "$here/lib.sh"  # free_port, wait_port, stop_pid, bench_work
bench_work suppression_compare

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_ringmta NAME STORE [args...]: sets $rpid, $port, $aport.
start_ringmta() {
  local name=$1 store=$2
  shift 2
  port=$(free_port)
  aport=$(free_port)
  local spool=$work/spool.$name.$RANDOM
  mkdir -p "$spool" && chmod 777 "$spool"
  "$ringmta" --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$aport" --spool "$spool" --shards "$shards" \
    --suppression-dir "$store" "$@" >"$work/ringmta.$name.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_port "$port" || fail "$name: ringmta did not start: $(cat "$work/ringmta.$name.log")"
  wait_port "$aport" || fail "$name: no admin API"
}

echo "suppression_compare: writing $entries addresses to a CSV file" >&2
/usr/bin/python3 - "$work/list.csv" "$entries" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    f.write('address,reason,class,note\n')
    for i in range(int(sys.argv[2])):
        f.write('subscriber%d@list%d.example.com,bounce,InvalidRecipient,550 5.1.1 user unknown\n' % (i, i % 10000))
PY
echo "suppression_compare: importing them" >&2
start_ringmta import "$work/store.full" --hold true
t0=$(date +%s.%N)
"$ctl" suppress import "$work/list.csv" --admin "http://127.0.0.1:$aport" 2>"$work/import.log" ||
  fail "import: $(tail -c 500 "$work/import.log")"
t1=$(date +%s.%N)
count=$(curl -s "http://127.0.0.1:$aport/api/v1/suppressions?limit=1" |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["addresses"])')
stop_pid "$rpid"
[[ $count -eq $entries ]] || fail "import: the list holds $count entries, not $entries"
import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
import_rate=$(awk -v a="$t0" -v b="$t1" -v n="$entries" 'BEGIN { printf "%.0f", n / (b - a) }')
store_mb=$(du -sm "$work/store.full" | cut -f1)

# relay NAME STORE: appends "NAME MSG_PER_S CPU_US_PER_MSG".
relay() {
  local name=$1 store=$2 n=$((seconds * 10000)) sink_port spid c0 c1 t0 t1
  sink_port=$(free_port)
  "$smtpblast" --sink --listen "127.0.0.1:$sink_port" --expect "$n" --quiet --timeout $((120 + n / 50)) \
    >"$work/sink.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  start_ringmta "$name" "$store" --relay-host "127.0.0.1:$sink_port"
  wait_port "$sink_port" || fail "the sink did not start"
  c0=$(cpu_of "$rpid"); t0=$(date +%s.%N)
  "$smtpblast" --server "127.0.0.1:$port" --connections "$conns" --messages "$n" --pipelining \
    --to sink@bench.test --domains 1000 --quiet >"$work/gen.log" 2>&1 || fail "$name: $(tail -3 "$work/gen.log")"
  wait "$spid" || fail "$name: the sink did not get $n messages"
  t1=$(date +%s.%N); c1=$(cpu_of "$rpid")
  stop_pid "$rpid"
  awk -v name="$name" -v n="$n" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v tick="$tick" \
    'BEGIN { printf "%s %.0f %.2f\n", name, n / (t1 - t0), (c1 - c0) / tick * 1e6 / n }' >>"$work/relay"
}

for r in $(seq "$rounds"); do
  echo "suppression_compare: round $r of $rounds: relay (empty list, $entries entries)" >&2
  relay empty "$work/store.empty.$r"
  relay full "$work/store.full"
done

echo "Import of $entries addresses (ringmta-ctl suppress import, $shards shards): ${import_s} s, $import_rate entries/s, store ${store_mb} MB"
echo "Relay, $shards shards, $conns connections, an empty list vs $entries entries:"
/usr/bin/python3 - "$work/relay" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, cpu = line.split()
    rows.setdefault(name, []).append((float(rate), float(cpu)))
for name in ('empty', 'full'):
    r = rows[name]
    rates, cpus = [x for x, _ in r], [y for _, y in r]
    print("  %-6s %10.0f msg/s %8.2f us CPU/msg  (median of %d; msg/s %.0f..%.0f; CPU/msg %.2f..%.2f)"
          % (name, statistics.median(rates), statistics.median(cpus), len(r), min(rates), max(rates),
             min(cpus), max(cpus)))
e, f = statistics.median(x for x, _ in rows['empty']), statistics.median(x for x, _ in rows['full'])
print("  full / empty: %.3f (msg/s)" % (f / e))
PY
echo "Lookup per RCPT (bench/suppression_benchmark; stores kept in \${RINGMTA_BENCH_DIR:-/tmp}):"
"$build/bench/suppression_benchmark" --benchmark_filter=Lookup 2>/dev/null | awk '/^BM_/ {printf "  %-30s %s %s CPU\n", $1, $4, $5}'
