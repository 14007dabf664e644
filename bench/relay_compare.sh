#!/usr/bin/env bash
# bench/relay_compare.sh — ringmta vs Postfix as a relay, end to end, side by
# side in one run.
#
#   bench/relay_compare.sh [BUILD_DIR] [MESSAGES] [SESSIONS] [SIZE] [ROUNDS]
#   defaults:              build       20000      20         1024   1
#   env: RINGMTA_SHARDS (default 1), RINGMTA_ARGS (extra ringmta flags),
#        RELAY_DEADLINE (seconds one run may take; default 60 + MESSAGES/40),
#        RELAY_CPU=proc (read CPU from /proc even where a cgroup can be made)
#
# Each round, for ringmta and then for a private Postfix 3.7 instance
# (bench/postfix_instance.sh), both relaying everything to a fresh smtp-sink:
#   smtp-source -s SESSIONS -m MESSAGES -l SIZE -d  ->  MTA  ->  smtp-sink -c
# Throughput is MESSAGES / (time from smtp-source's start until the sink has
# counted MESSAGES messages; the sink's -c counter is followed). CPU is the
# MTA's CPU time over the same span, read from a cpuacct cgroup holding only
# that MTA (cgroup v1, /sys/fs/cgroup/cpuacct) when one can be made, else
# from /proc/PID/stat (ringmta: its process; Postfix: the instance's live
# processes plus its master's reaped children). The output says which.
# Needs root (Postfix's master, the cgroup). Every wait is bounded.
set -euo pipefail
build=${1:-build}
messages=${2:-20000}
sessions=${3:-20}
size=${4:-1024}
rounds=${5:-1}
shards=${RINGMTA_SHARDS:-1}
deadline=${RELAY_DEADLINE:-$((60 + messages / 40))}
here=$(cd "$(dirname "$0")" && pwd)
instance=$here/postfix_instance.sh
ringmta=$build/engine/ringmta
[[ -x $ringmta ]] || { echo "no $ringmta: build first (ninja -C $build engine/ringmta)" >&2; exit 1; }
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: run tools/setup.sh" >&2; exit 1; }
((EUID == 0)) || { echo "run as root (Postfix's master and the cgroup need it)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ringmta-relay.XXXXXX)
chmod 755 "$work"  # run as root, ringmta drops to its own user and must reach the spool
chmod 755 "$work"   # the postfix user must reach the instance's queue inside
pfdir=
cgroups=()
cleanup() {
  set +e
  [[ -n $pfdir ]] && "$instance" stop "$pfdir" >/dev/null 2>&1
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  for p in $(jobs -p); do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  for p in "${cgroups[@]}"; do rmdir "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
tick=$(getconf CLK_TCK)

. "$(dirname "$0")/lib.sh"  # free_port, wait_port, stop_pid
fail() { echo "relay_compare: $*" >&2; exit 1; }

# CPU accounting: one cgroup per MTA if the cpuacct hierarchy lets us.
cgroot=/sys/fs/cgroup/cpuacct
cpu_mode=proc
if [[ ${RELAY_CPU:-cgroup} != proc ]] && mkdir "$cgroot/ringmta-bench-$$-ringmta" 2>/dev/null; then
  cgroups+=("$cgroot/ringmta-bench-$$-ringmta")
  if mkdir "$cgroot/ringmta-bench-$$-postfix" 2>/dev/null; then
    cgroups+=("$cgroot/ringmta-bench-$$-postfix")
    (echo "$BASHPID" >"${cgroups[0]}/tasks") 2>/dev/null && cpu_mode=cgroup
  fi
fi
# in_cgroup NAME CMD...: run CMD (exec'd) inside cgroup NAME when cpu_mode=cgroup.
in_cgroup() {
  local name=$1; shift
  [[ $cpu_mode == cgroup ]] && echo "$BASHPID" >"$cgroot/ringmta-bench-$$-$name/tasks"
  exec "$@"
}
# cpu_ns NAME PID: the MTA's CPU time so far in ns.
cpu_ns() {
  if [[ $cpu_mode == cgroup ]]; then
    cat "$cgroot/ringmta-bench-$$-$1/cpuacct.usage"
  elif [[ $1 == ringmta ]]; then
    awk -v hz="$tick" '{printf "%.0f\n", ($14 + $15) / hz * 1e9}' "/proc/$2/stat"
  else
    # Live processes' own time, plus the master's reaped children (daemons
    # that exited since); a process exiting between the two reads is lost.
    local master t=0 p s
    master=$(awk '{print $1; exit}' "$pfdir/queue/pid/master.pid")
    for p in $("$instance" pids "$pfdir"); do
      s=$(awk -v m="$([[ $p == "$master" ]] && echo 1 || echo 0)" \
        '{print $14 + $15 + m * ($16 + $17)}' "/proc/$p/stat" 2>/dev/null) || continue
      t=$((t + ${s:-0}))
    done
    awk -v t="$t" -v hz="$tick" 'BEGIN {printf "%.0f\n", t / hz * 1e9}'
  fi
}

# watch_sink FILE SINK_PID: follow smtp-sink's -c counter in FILE; print
# "done EPOCH" when it reaches $messages, "timeout COUNT" after $deadline s,
# "died COUNT" if the sink exits first.
watch_sink() {
  /usr/bin/python3 - "$1" "$2" "$messages" "$deadline" <<'PY'
import os, re, sys, time
path, pid, want, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
end = time.time() + limit
mesg = re.compile(rb"mesg=(\d+)")
count, tail = 0, b""
with open(path, "rb") as f:
    while True:
        data = f.read()
        if data:
            recs = (tail + data).split(b"\r")
            tail = recs.pop()          # a record not yet complete
            for rec in reversed(recs):
                m = mesg.search(rec)
                if m:
                    count = int(m.group(1))
                    break
            if count >= want:
                print("done %.6f" % time.time())
                break
        now = time.time()
        if now > end:
            print("timeout %d" % count)
            break
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("died %d" % count)
            break
        time.sleep(0.005)
PY
}

# start_sink: start a fresh smtp-sink; sets sink_pid, sink_port, sink_log.
start_sink() {
  sink_port=$(free_port)
  sink_log=$work/sink.$sink_port
  smtp-sink -u nobody -c "127.0.0.1:$sink_port" 1000 >"$sink_log" 2>&1 &
  sink_pid=$!
  wait_port "$sink_port" || fail "smtp-sink does not accept on $sink_port"
}

# measure NAME PID PORT: inject through PORT, wait for the sink; prints
# "SECONDS CPU_NS INJECT_SECONDS".
measure() {
  local name=$1 pid=$2 port=$3 c0 c1 t0 t1 ts watch wpid
  watch=$work/watch.$name
  watch_sink "$sink_log" "$sink_pid" >"$watch" &
  wpid=$!
  c0=$(cpu_ns "$name" "$pid")
  t0=$(date +%s.%N)
  timeout --foreground "$deadline" smtp-source -s "$sessions" -m "$messages" -l "$size" -d \
    -f bench@example.test -t sink@example.test "127.0.0.1:$port" >"$work/source.$name" 2>&1 ||
    { cat "$work/source.$name" >&2; fail "$name: smtp-source failed or took over $deadline s"; }
  ts=$(date +%s.%N)
  wait "$wpid" || true
  c1=$(cpu_ns "$name" "$pid")
  read -r state t1 <"$watch" || fail "$name: no answer from the sink watcher"
  [[ $state == done ]] ||
    fail "$name: sink $state after ${deadline} s with $t1 of $messages messages (RELAY_DEADLINE to wait longer)"
  awk -v t0="$t0" -v t1="$t1" -v ts="$ts" -v c="$((c1 - c0))" \
    'BEGIN { printf "%.3f %.0f %.3f\n", t1 - t0, c, ts - t0 }'
}

echo "relay: smtp-source -s $sessions -m $messages -l $size -d -> MTA -> smtp-sink;" \
  "ringmta --shards $shards; CPU from $([[ $cpu_mode == cgroup ]] && echo "cpuacct cgroups" || echo /proc/PID/stat)"
printf "%-6s %-8s %10s %10s %12s %14s\n" round MTA seconds "msg/s" "injected s" "cpu us/msg"
row() { awk -v r="$1" -v n="$2" -v s="$3" -v c="$4" -v i="$5" -v m="$messages" \
  'BEGIN { printf "%-6s %-8s %10.2f %10.0f %12.2f %14.1f\n", r, n, s, m / s, i, c / 1e3 / m }'; }
ring_s=0 ring_cpu=0 pf_s=0 pf_cpu=0
for r in $(seq "$rounds"); do
  # ringmta
  start_sink
  port=$(free_port)
  rm -rf "$work/spool"
  in_cgroup ringmta "$ringmta" --listen "127.0.0.1:$port" --spool "$work/spool" \
    --relay-host "127.0.0.1:$sink_port" --shards "$shards" --log-level warn ${RINGMTA_ARGS:-} &
  ring_pid=$!
  wait_port "$port" || fail "ringmta does not accept on $port"
  read -r secs cpu inj < <(measure ringmta "$ring_pid" "$port")
  [[ -n ${secs:-} ]] || exit 1
  stop_pid "$ring_pid"
  stop_pid "$sink_pid"
  row "$r" ringmta "$secs" "$cpu" "$inj"
  ring_s=$(awk -v a="$ring_s" -v b="$secs" 'BEGIN {print a + b}'); ring_cpu=$((ring_cpu + cpu))

  # Postfix
  start_sink
  port=$(free_port)
  pfdir=$work/postfix
  rm -rf "$pfdir"
  (in_cgroup postfix "$instance" start "$pfdir" "$port" "127.0.0.1:$sink_port") ||
    fail "the Postfix instance did not start"
  read -r secs cpu inj < <(measure postfix - "$port")
  [[ -n ${secs:-} ]] || exit 1
  "$instance" stop "$pfdir"
  pfdir=
  stop_pid "$sink_pid"
  row "$r" postfix "$secs" "$cpu" "$inj"
  pf_s=$(awk -v a="$pf_s" -v b="$secs" 'BEGIN {print a + b}'); pf_cpu=$((pf_cpu + cpu))
done

echo
printf "%-8s %10s %12s %14s\n" MTA "msg/s" "vs Postfix" "cpu us/msg"
awk -v m="$((messages * rounds))" -v rs="$ring_s" -v rc="$ring_cpu" -v ps="$pf_s" -v pc="$pf_cpu" 'BEGIN {
  printf "%-8s %10.0f %11.2fx %14.1f\n", "ringmta", m / rs, ps / rs, rc / 1e3 / m
  printf "%-8s %10.0f %11.2fx %14.1f\n", "postfix", m / ps, 1, pc / 1e3 / m
  printf "ringmta / Postfix: throughput %.2fx, CPU per message %.3fx\n", ps / rs, rc / pc
}'
