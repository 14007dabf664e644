#!/usr/bin/env bash
# bench/accept_vs_sink.sh — how fast ringmta accepts mail durably, compared
# side by side in one run with Postfix's smtp-sink (which stores nothing).
#
#   bench/accept_vs_sink.sh [BUILD_DIR] [MESSAGES] [SESSIONS] [SIZE] [ROUNDS]
#   defaults:               build       20000      20         1024   3
#
# Each round runs `smtp-source -s SESSIONS -m MESSAGES -l SIZE -d` against
# smtp-sink and then against ringmta (fdatasync'd spool on this disk), and
# reports messages/s and each server's CPU time per message (utime+stime
# from /proc/PID/stat). Rounds alternate so both see the same machine noise.
set -euo pipefail
build=${1:-build}
messages=${2:-20000}
sessions=${3:-20}
size=${4:-1024}
rounds=${5:-3}
ringmta=$build/engine/ringmta
[[ -x $ringmta ]] || { echo "no $ringmta: build first (ninja -C $build)" >&2; exit 1; }
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: run tools/setup.sh" >&2; exit 1; }
work=$(mktemp -d /var/tmp/ringmta-bench.XXXXXX)
chmod 755 "$work"  # run as root, ringmta drops to its own user and must reach the spool
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
tick=$(getconf CLK_TCK)

. "$(dirname "$0")/lib.sh"  # free_port, wait_port, stop_pid
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_one NAME PID PORT: time smtp-source against PORT; print "rate cpu_us_per_msg".
run_one() {
  local pid=$2 port=$3 c0 c1 t0 t1
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  smtp-source -s "$sessions" -m "$messages" -l "$size" -d -f bench@example.test -t sink@example.test \
    "127.0.0.1:$port" >/dev/null
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  awk -v m="$messages" -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v hz="$tick" \
    'BEGIN { printf "%.0f %.1f\n", m / (t1 - t0), c / hz * 1e6 / m }'
}

printf "%-6s %-10s %12s %16s\n" round server "msg/s" "cpu us/msg"
declare -a sink_rates ring_rates
for r in $(seq "$rounds"); do
  port=$(free_port)
  smtp-sink -u nobody -c "127.0.0.1:$port" 1000 >/dev/null 2>&1 &
  sink_pid=$!
  wait_port "$port"
  read -r rate cpu < <(run_one sink "$sink_pid" "$port")
  kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
  printf "%-6s %-10s %12s %16s\n" "$r" smtp-sink "$rate" "$cpu"
  sink_rates+=("$rate")

  port=$(free_port)
  rm -rf "$work/spool"
  "$ringmta" --listen "127.0.0.1:$port" --spool "$work/spool" --log-level warn --hold true ${RINGMTA_ARGS:-} &
  ring_pid=$!
  wait_port "$port"
  read -r rate cpu < <(run_one ringmta "$ring_pid" "$port")
  kill -TERM "$ring_pid"; wait "$ring_pid"
  printf "%-6s %-10s %12s %16s\n" "$r" ringmta "$rate" "$cpu"
  ring_rates+=("$rate")
done
sum() { local s=0; for x in "$@"; do s=$((s + x)); done; echo "$s"; }
awk -v a="$(sum "${ring_rates[@]}")" -v b="$(sum "${sink_rates[@]}")" \
  'BEGIN { printf "ringmta / smtp-sink throughput: %.2f\n", a / b }'
