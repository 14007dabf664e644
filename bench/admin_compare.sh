#!/usr/bin/env bash
# bench/admin_compare.sh — the admin API's costs, side by side in one run:
#
#   bench/admin_compare.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#   defaults:              build       5         3
#   env: ADMIN_SHARDS (ringmta --shards, default 2), ADMIN_CONNS (20),
#        INJECT_RCPTS (recipients per HTTP request, default 100)
#
# 1. Injection, accepted durably (--hold: nothing is delivered): SMTP with
#    smtpblast (--pipelining, 1 KB messages, one recipient each) against
#    HTTP with wrk POSTing /api/v1/inject (bench/inject_wrk.lua: INJECT_RCPTS
#    recipients with substitutions, so as many 1 KB messages per request).
#    Messages per second, and ringmta's CPU (utime + stime, all threads)
#    per message. Rounds alternate.
# 2. Relaying (smtpblast -> ringmta -> smtpblast sink) with and without a
#    /metrics scrape every second (curl), rounds alternating: messages per
#    second and CPU per message.
# 3. The scrape itself: bench/metrics_benchmark (10,000 site queues) and
#    curl's time for one scrape of the running relay.
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
rounds=${3:-3}
shards=${ADMIN_SHARDS:-2}
conns=${ADMIN_CONNS:-20}
export INJECT_RCPTS=${INJECT_RCPTS:-100}
here=$(cd "$(dirname "$0")" && pwd)
ringmta=$build/engine/ringmta
smtpblast=$build/bench/smtpblast
for b in "$ringmta" "$smtpblast" "$build/bench/metrics_benchmark"; do
  [[ -x $b ]] || { echo "admin_compare: no $b: build first (ninja -C $build)" >&2; exit 1; }
done
for t in wrk curl; do
  command -v $t >/dev/null || { echo "admin_compare: $t missing: run tools/setup.sh" >&2; exit 1; }
done
. "$here/lib.sh"  # free_port, wait_port, stop_pid, bench_work
bench_work admin_compare

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_ringmta NAME [args...]: sets $rpid, $port, $aport.
start_ringmta() {
  local name=$1
  shift
  port=$(free_port)
  aport=$(free_port)
  local spool=$work/spool.$name.$RANDOM
  mkdir -p "$spool" && chmod 777 "$spool"
  "$ringmta" --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$aport" --spool "$spool" --shards "$shards" \
    "$@" >"$work/ringmta.$name.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_port "$port" || fail "$name: ringmta did not start: $(cat "$work/ringmta.$name.log")"
  wait_port "$aport" || fail "$name: no admin API"
}

# inject_smtp / inject_http: one measured run; appends "NAME MSG_PER_S CPU_US_PER_MSG".
inject_smtp() {
  start_ringmta smtp --hold true
  local n=$((seconds * 20000)) c0 t0 t1 c1
  c0=$(cpu_of "$rpid"); t0=$(date +%s.%N)
  "$smtpblast" --server "127.0.0.1:$port" --connections "$conns" --messages "$n" --pipelining \
    --to sink@bench.test --quiet >"$work/gen.log" 2>&1 || fail "smtp: $(tail -3 "$work/gen.log")"
  t1=$(date +%s.%N); c1=$(cpu_of "$rpid")
  stop_pid "$rpid"
  awk -v n="$n" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v tick="$tick" \
    'BEGIN { printf "smtp %.0f %.2f\n", n / (t1 - t0), (c1 - c0) / tick * 1e6 / n }' >>"$work/inject"
}
inject_http() {
  start_ringmta http --hold true
  local c0 c1 out reqs bad
  c0=$(cpu_of "$rpid")
  out=$(wrk -t2 -c"$conns" -d"${seconds}s" -s "$here/inject_wrk.lua" "http://127.0.0.1:$aport" 2>&1) ||
    fail "wrk: $out"
  c1=$(cpu_of "$rpid")
  stop_pid "$rpid"
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [[ -z $bad ]] || fail "http: $bad answers were not 2xx"
  reqs=$(awk '/requests in/ {print $1; exit}' <<<"$out")
  awk -v r="$reqs" -v k="$INJECT_RCPTS" -v s="$seconds" -v c0="$c0" -v c1="$c1" -v tick="$tick" \
    'BEGIN { n = r * k; printf "http %.0f %.2f\n", n / s, (c1 - c0) / tick * 1e6 / n }' >>"$work/inject"
}

# relay NAME SCRAPE: smtpblast -> ringmta -> sink; SCRAPE=1 curls /metrics
# every second meanwhile. Appends "NAME MSG_PER_S CPU_US_PER_MSG".
relay() {
  local name=$1 scrape=$2 n=$((seconds * 10000)) sink_port spid c0 c1 t0 t1 scraper=""
  sink_port=$(free_port)
  "$smtpblast" --sink --listen "127.0.0.1:$sink_port" --expect "$n" --quiet --timeout $((120 + n / 50)) \
    >"$work/sink.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  start_ringmta "$name" --relay-host "127.0.0.1:$sink_port"
  wait_port "$sink_port" || fail "the sink did not start"
  if ((scrape)); then
    (while :; do curl -s -o /dev/null "http://127.0.0.1:$aport/metrics"; sleep 1; done) &
    scraper=$!
    pids+=("$scraper")
  fi
  c0=$(cpu_of "$rpid"); t0=$(date +%s.%N)
  "$smtpblast" --server "127.0.0.1:$port" --connections "$conns" --messages "$n" --pipelining \
    --to sink@bench.test --quiet >"$work/gen.log" 2>&1 || fail "$name: $(tail -3 "$work/gen.log")"
  wait "$spid" || fail "$name: the sink did not get $n messages"
  t1=$(date +%s.%N); c1=$(cpu_of "$rpid")
  if [[ -n $scraper ]]; then
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$aport/metrics" >>"$work/scrape_time"
    kill "$scraper" 2>/dev/null || true
  fi
  stop_pid "$rpid"
  awk -v name="$name" -v n="$n" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v tick="$tick" \
    'BEGIN { printf "%s %.0f %.2f\n", name, n / (t1 - t0), (c1 - c0) / tick * 1e6 / n }' >>"$work/relay"
}

for r in $(seq "$rounds"); do
  echo "admin_compare: round $r of $rounds: injection (SMTP, HTTP)" >&2
  inject_smtp
  inject_http
  echo "admin_compare: round $r of $rounds: relay (without, with a 1 s scrape)" >&2
  relay plain 0
  relay scraped 1
done

summary() {  # summary FILE: per name, the median msg/s and CPU/msg
  /usr/bin/python3 - "$1" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, cpu = line.split()
    rows.setdefault(name, []).append((float(rate), float(cpu)))
for name in sorted(rows):
    r = rows[name]
    rates, cpus = [x for x, _ in r], [y for _, y in r]
    print("  %-8s %10.0f msg/s %8.2f us CPU/msg  (median of %d; CPU/msg %.2f..%.2f)"
          % (name, statistics.median(rates), statistics.median(cpus), len(r), min(cpus), max(cpus)))
PY
}
echo "Injection, accepted durably, $shards shards ($INJECT_RCPTS recipients per HTTP request):"
summary "$work/inject"
echo "Relay, $shards shards, with and without a /metrics scrape every second:"
summary "$work/relay"
echo "One scrape of the relay (curl time_total, s): $(sort -n "$work/scrape_time" | tr '\n' ' ')"
echo "Rendering /metrics (bench/metrics_benchmark):"
"$build/bench/metrics_benchmark" --benchmark_min_time=0.3 2>/dev/null | awk '/^BM_/ {printf "  %-22s %s %s\n", $1, $2, $3}'
