#!/usr/bin/env bash
# bench/shaping_compare.sh — what traffic shaping and many destinations cost
# ringmta as a relay, side by side in one run, rounds alternating:
#
#   bench/shaping_compare.sh [BUILD_DIR] [MESSAGES] [ROUNDS]
#   defaults:                build       20000      3
#   env: SHAPING_SHARDS (ringmta --shards, default 1), SHAPING_SESSIONS (20),
#        SHAPING_SCENARIOS (default "plain shaping domains10k"; also "rules" and
#        "pools": the shaping config's rules alone, its pools alone)
#
# Scenarios, each a fresh ringmta and spool relaying to one smtpblast sink
# through MX records served by a local dnsmasq (d0.bench.test ...
# d9999.bench.test all have the MX mx.bench.test = 127.0.0.1):
#   10 domains        smtpblast --domains 10, no shaping config
#   10 + shaping      the same, with 1,000 [shaping.domain] rules (for d0 ...
#                     d999; rates far above the load, so that they cost
#                     lookups but never hold mail back), 5 backoff rules and
#                     3 egress pools over 127.0.0.1, .2 and .3; connection_limit
#                     7 per (source, site), so that the 3 sources together
#                     hold about the 20 connections of the plain run: the run
#                     measures what the shaping machinery costs, not what
#                     more parallel connections cost
#   10000 domains     smtpblast --domains 10000, no shaping config: every
#                     domain is routed (an MX lookup) before its first message
# Generator: smtpblast --pipelining, 1 KB messages, 1 recipient. Throughput
# is MESSAGES / (generator start -> the sink has accepted MESSAGES). CPU is
# ringmta's own (utime + stime of its process, all threads, /proc) over the
# same span, per message, and, when perf is installed, the instructions
# ringmta ran in user space per message (perf stat -e instructions:u): far
# steadier than CPU time on a shared machine, and what the shaping code
# adds shows there alone. Prints one table; exits non-zero if a run fails.
set -euo pipefail
build=${1:-build}
messages=${2:-20000}
rounds=${3:-3}
shards=${SHAPING_SHARDS:-1}
sessions=${SHAPING_SESSIONS:-20}
here=$(cd "$(dirname "$0")" && pwd)
ringmta=$build/engine/ringmta
smtpblast=$build/bench/smtpblast
for b in "$ringmta" "$smtpblast"; do
  [[ -x $b ]] || { echo "shaping_compare: no $b: build first (ninja -C $build)" >&2; exit 1; }
done
command -v dnsmasq >/dev/null || PATH=$PATH:/usr/sbin
command -v dnsmasq >/dev/null || { echo "shaping_compare: dnsmasq missing: run tools/setup.sh" >&2; exit 1; }
. "$here/lib.sh"  # free_port, wait_port, stop_pid, bench_work

bench_work shaping_compare  # $work, $pids, $tick, fail (lib.sh)

# DNS: 10,000 domains, one MX host.
dns_port=$(free_port)
{
  for ((i = 0; i < 10000; i++)); do echo "mx-host=d$i.bench.test,mx.bench.test,10"; done
  echo "host-record=mx.bench.test,127.0.0.1"
} >"$work/dnsmasq.conf"
dnsmasq --keep-in-foreground --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --conf-file="$work/dnsmasq.conf" --local=/test/ --pid-file= --user=root --cache-size=0 \
  2>"$work/dnsmasq.log" &
pids+=($!)
sleep 0.5
kill -0 "${pids[-1]}" 2>/dev/null || fail "dnsmasq did not start: $(cat "$work/dnsmasq.log")"

# The shaping config: 1,000 domain rules, 5 backoff rules (rules.toml), and
# 3 pools (pools.toml); shaping.toml has both.
{
  echo '[shaping.default]'
  echo 'connection_limit = 7'
  for ((i = 0; i < 1000; i++)); do
    printf '[shaping.domain."d%d.bench.test"]\nmax_message_rate = "1000000/s"\nmax_deliveries_per_connection = 1000\n' "$i"
  done
  for re in '\[TSS04\]' '^421 4\.7\.0 .*rate' '4\.7\.650' '\(S3150\)' '\[HM08\]'; do
    printf "[[shaping.rule]]\nregex = '%s'\naction = \"suspend\"\nduration = \"10m\"\n" "$re"
  done
} >"$work/rules.toml"
{
  for s in 1 2 3; do printf '[egress.source."ip-%d"]\naddress = "127.0.0.%d"\n' "$s" "$s"; done
  echo '[egress.pool."a"]'; echo 'sources = [{ name = "ip-1", weight = 2 }, { name = "ip-2", weight = 1 }]'
  echo '[egress.pool."b"]'; echo 'sources = [{ name = "ip-2" }, { name = "ip-3" }]'
  echo '[egress.pool."c"]'; echo 'sources = [{ name = "ip-3" }]'
  echo '[egress]'; echo 'default_pool = "a"'; echo 'pool_by_sender_domain = { "other.test" = "b" }'
} >"$work/pools.toml"
cat "$work/rules.toml" "$work/pools.toml" >"$work/shaping.toml"

# run NAME DOMAINS [ringmta args...]: one measured run; appends
# "NAME MSG_PER_S CPU_US_PER_MSG" to $work/results.
run() {
  local name=$1 domains=$2
  shift 2
  local port sink_port spool rpid spid c0 c1 t0 t1
  port=$(free_port)
  sink_port=$(free_port)
  spool=$work/spool.$name.$RANDOM
  mkdir -p "$spool"
  chmod 777 "$spool"
  "$smtpblast" --sink --listen "0.0.0.0:$sink_port" --expect "$messages" --quiet \
    --timeout $((120 + messages / 100)) >"$work/sink.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  "$ringmta" --listen "127.0.0.1:$port" --spool "$spool" --shards "$shards" --resolver "127.0.0.1:$dns_port" \
    --mx-port "$sink_port" --log-level warn "$@" >"$work/ringmta.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_port "$port" || fail "$name: ringmta did not start: $(cat "$work/ringmta.log")"
  wait_port "$sink_port" || fail "$name: the sink did not start"
  local ppid=
  if command -v perf >/dev/null; then
    perf stat -x, -e instructions:u -p "$rpid" -o "$work/perf.$name" &
    ppid=$!
    sleep 0.2
  fi
  c0=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  t0=$(date +%s.%N)
  "$smtpblast" --server "127.0.0.1:$port" --connections "$sessions" --messages "$messages" --pipelining \
    --domains "$domains" --to "sink@bench.test" --quiet >"$work/gen.log" 2>&1 || fail "$name: generator: $(tail -3 "$work/gen.log")"
  wait "$spid" || fail "$name: the sink did not get $messages messages: $(tail -3 "$work/sink.log")"
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  local instr=0
  if [[ -n $ppid ]]; then
    kill -INT "$ppid"
    wait "$ppid" 2>/dev/null || true
    instr=$(awk -F, '/instructions/ {print $1; exit}' "$work/perf.$name")
    [[ $instr =~ ^[0-9]+$ ]] || instr=0
  fi
  stop_pid "$rpid"
  rm -rf "$spool"
  awk -v n="$name" -v m="$messages" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$tick" -v i="$instr" \
    'BEGIN { printf "%s %.0f %.1f %.0f\n", n, m / (t1 - t0), (c1 - c0) / hz * 1e6 / m, i / m }' >>"$work/results"
  tail -1 "$work/results" | awk '{printf "  %-14s %8s msg/s %7s us/msg %8s instr/msg\n", $1, $2, $3, $4}' >&2
}

echo "shaping_compare: $messages messages x $rounds rounds, --shards $shards, $sessions sessions" >&2
for ((r = 1; r <= rounds; r++)); do
  echo "round $r" >&2
  for s in ${SHAPING_SCENARIOS:-plain shaping domains10k}; do
    case $s in
      plain) run plain 10 ;;
      shaping) run shaping 10 --config "$work/shaping.toml" ;;
      rules) run rules 10 --config "$work/rules.toml" ;;
      pools) run pools 10 --config "$work/pools.toml" ;;
      domains10k) run domains10k 10000 ;;
      *) fail "unknown scenario $s" ;;
    esac
  done
done

/usr/bin/python3 - "$work/results" "$messages" "$rounds" "$shards" <<'PY'
import statistics, sys
path, messages, rounds, shards = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = {}
for line in open(path):
    name, rate, cpu, instr = line.split()
    rows.setdefault(name, []).append((float(rate), float(cpu), float(instr)))
label = {'plain': '10 domains', 'shaping': '10 domains + shaping (1,000 rules, 3 pools)',
         'rules': '10 domains + 1,000 rules (no pools)', 'pools': '10 domains + 3 pools (no rules)',
         'domains10k': '10,000 domains'}
med = {n: tuple(statistics.median(x[k] for x in v) for k in range(3)) for n, v in rows.items()}
print('%s messages per run, %s rounds (medians; every run listed), ringmta --shards %s\n' % (messages, rounds, shards))
print('| scenario | msg/s | CPU us/msg | user instructions/msg | runs (msg/s, us/msg) |')
print('|---|---:|---:|---:|---|')
for n in [n for n in ('plain', 'shaping', 'rules', 'pools', 'domains10k') if n in rows]:
    runs = ', '.join('%.0f / %.1f' % (r, c) for r, c, _ in rows[n])
    instr = '%.0f' % med[n][2] if med[n][2] > 0 else 'n/a (no perf)'
    print('| %s | %.0f | %.1f | %s | %s |' % (label[n], med[n][0], med[n][1], instr, runs))
print()
if 'shaping' in med and 'plain' in med:
    print('shaping costs %+.1f us/msg (median CPU, shaping - plain); budget: at most 2' % (med['shaping'][1] - med['plain'][1]))
    if med['plain'][2] > 0:
        print('shaping adds %+.0f user-space instructions per message (%+.1f%%)'
              % (med['shaping'][2] - med['plain'][2], 100 * (med['shaping'][2] / med['plain'][2] - 1)))
if 'domains10k' in med and 'plain' in med:
    print('10,000 domains run at %.2f x the throughput of 10 (budget: at least 0.90)' % (med['domains10k'][0] / med['plain'][0]))
PY
