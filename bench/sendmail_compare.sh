#!/usr/bin/env bash
# bench/sendmail_compare.sh — local submission through the sendmail command,
# side by side in one run: ringmta-sendmail -> a running ringmta (SMTP,
# accepted durably, --hold: nothing is delivered) against Postfix's own
# sendmail -> postdrop (a durable file in a private Postfix maildrop).
#
#   bench/sendmail_compare.sh [BUILD_DIR] [N] [CALLERS]
#   defaults:                 build       2000 8
#   env: RINGMTA_BIN, RINGMTA_SENDMAIL_BIN (default BUILD_DIR/engine/ringmta and
#        BUILD_DIR/tools/sendmail/ringmta-sendmail; use a release build),
#        ROUNDS (default 4: the sides alternate, N/ROUNDS messages each time)
#
# Prints, for each side: submissions per second from CALLERS parallel
# callers sending N messages (1 KB, one recipient) in all, CPU per
# submission of the callers (the sendmail processes and, for Postfix, the
# postdrop each one runs; getrusage of the children, from /usr/bin/time)
# and of the server (ringmta's utime + stime from /proc; Postfix has none:
# its pickup is not running, postdrop's file is the submission), and the
# process start cost: N/4 runs of a no-op (ringmta-sendmail -V; Postfix's
# sendmail -bz, which reads main.cf and stops at the unsupported mode).
#
# The private Postfix (what works as root here, Debian 12, Postfix 3.7):
# a config directory with a main.cf made by postconf -e (queue_directory,
# command_directory under the work dir); postdrop is set-gid postdrop, and a
# set-gid postdrop refuses a -C directory that the machine's
# /etc/postfix/main.cf does not list in alternate_config_directories, so a
# plain copy (without the set-gid bit) runs as root from command_directory.
# `postfix start` is not needed for postdrop: without the pickup service it
# warns "unable to look up public/pickup" and leaves the file.
set -euo pipefail
build=${1:-build}
n=${2:-2000}
callers=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
ringmta=${RINGMTA_BIN:-$build/engine/ringmta}
sendmail=${RINGMTA_SENDMAIL_BIN:-$build/tools/sendmail/ringmta-sendmail}
for b in "$ringmta" "$sendmail" /usr/sbin/sendmail /usr/sbin/postdrop /usr/sbin/postconf /usr/bin/time; do
  [[ -x $b ]] || { echo "sendmail_compare: no $b (build first, or tools/setup.sh)" >&2; exit 1; }
done
((EUID == 0)) || { echo "sendmail_compare: run as root (postdrop writes a root-owned maildrop)" >&2; exit 1; }
. "$here/lib.sh"  # free_port, wait_port, stop_pid, bench_work
bench_work sendmail_compare
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

msg=$work/message.txt
{
  printf 'From: Bench <bench@example.test>\nTo: rcpt@example.test\nSubject: sendmail bench\n\n'
  for i in $(seq 14); do printf 'line %02d of a kilobyte of body text, the same for both sides of it.....\n' "$i"; done
} >"$msg"

# ringmta, holding what it accepts.
port=$(free_port)
mkdir -p "$work/spool"
"$ringmta" --listen "127.0.0.1:$port" --spool "$work/spool" --hostname bench.test --shards 2 \
  --admin-listen '' --hold true >"$work/ringmta.log" 2>&1 &
rpid=$!
pids+=("$rpid")
wait_port "$port" || fail "ringmta did not start: $(tail -5 "$work/ringmta.log")"
export RINGMTA_SERVER=127.0.0.1:$port RINGMTA_CONFIG=/dev/null

# The private Postfix config and queue.
pf=$work/postfix
mkdir -p "$pf/etc" "$pf/queue/maildrop" "$pf/bin" "$pf/data"
touch "$pf/etc/main.cf"
postconf -c "$pf/etc" -e "queue_directory=$pf/queue" "command_directory=$pf/bin" "data_directory=$pf/data" \
  "myhostname=bench.test" "compatibility_level=3.6"
cp /usr/sbin/postdrop "$pf/bin/postdrop"

# run_side NAME COMMAND...: CALLERS loops of N/CALLERS submissions each, the
# whole under /usr/bin/time (children's CPU); prints "NAME secs cpu_user+sys".
run_side() {
  local name=$1; shift
  local per=$((n / callers))
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/$name.time" bash -c '
    per=$1; shift; callers=$1; shift; msg=$1; shift
    for c in $(seq "$callers"); do
      ( for i in $(seq "$per"); do "$@" <"$msg" >/dev/null 2>>"'"$work/$name"'.err" || echo x >>"'"$work/$name"'.failed"; done ) &
    done
    wait' _ "$per" "$callers" "$msg" "$@"
  t1=$(date +%s.%N)
  echo "$name $(echo "$t1 - $t0" | bc -l) $(awk '{print $1 + $2}' "$work/$name.time")"
}

# start_cost NAME COMMAND...: seconds for N/4 sequential runs.
start_cost() {
  local name=$1; shift
  local runs=$((n / 4)) t0 t1
  t0=$(date +%s.%N)
  for _ in $(seq "$runs"); do "$@" </dev/null >/dev/null 2>&1 || true; done
  t1=$(date +%s.%N)
  echo "$(echo "($t1 - $t0) / $runs * 1000" | bc -l)"
}

echo "sendmail_compare: $n messages of $(wc -c <"$msg") octets, $callers callers, $(nproc) CPUs"
# Rounds alternate (ringmta, Postfix, ringmta, ...), N/ROUNDS messages per
# side per round, so that neither side alone gets the machine's quiet
# moments; the table sums the rounds and shows each round's rate.
rounds=${ROUNDS:-4}
per_round=$((n / rounds))
n_round=$(( (per_round / callers) * callers ))
ring_s=0 ring_cpu=0 pf_s=0 pf_cpu=0 ring_each="" pf_each="" server_ticks=0
for r in $(seq "$rounds"); do
  n=$per_round
  r0=$(cpu_of "$rpid")
  read -r _ s c < <(run_side "ringmta$r" "$sendmail" -f bench@example.test rcpt@example.test)
  r1=$(cpu_of "$rpid")
  server_ticks=$((server_ticks + r1 - r0))
  ring_s=$(echo "$ring_s + $s" | bc -l) ring_cpu=$(echo "$ring_cpu + $c" | bc -l)
  ring_each="$ring_each $(echo "$n_round / $s" | bc)"
  read -r _ s c < <(run_side "postfix$r" /usr/sbin/sendmail -C "$pf/etc" -f bench@example.test rcpt@example.test)
  pf_s=$(echo "$pf_s + $s" | bc -l) pf_cpu=$(echo "$pf_cpu + $c" | bc -l)
  pf_each="$pf_each $(echo "$n_round / $s" | bc)"
  for side in "ringmta$r" "postfix$r"; do
    [[ -f $work/$side.failed ]] && fail "$side: $(wc -l <"$work/$side.failed") submissions failed: $(tail -3 "$work/$side.err")"
  done
  # Exit 0 is also "kept in the maildrop": none may have been.
  ! grep -q 'kept in' "$work/ringmta$r.err" 2>/dev/null || fail "ringmta-sendmail could not submit: $(tail -2 "$work/ringmta$r.err")"
done
n=$((per_round * rounds))
done_n=$((n_round * rounds))
queued_pf=$(find "$pf/queue/maildrop" -type f | wc -l)
[[ $queued_pf -eq $done_n ]] || fail "Postfix's maildrop has $queued_pf files, expected $done_n"

start_ring=$(start_cost ringmta "$sendmail" -V)
start_pf=$(start_cost postfix /usr/sbin/sendmail -C "$pf/etc" -bz)

server_cpu_ms=$(echo "$server_ticks / $tick * 1000 / $done_n" | bc -l)
awk -v n="$done_n" -v rs="$ring_s" -v rc="$ring_cpu" -v rsv="$server_cpu_ms" -v ps="$pf_s" -v pc="$pf_cpu" \
    -v re="${ring_each# }" -v pe="${pf_each# }" -v sr="$start_ring" -v sp="$start_pf" '
BEGIN {
  printf "%-34s %16s %16s %8s\n", "", "ringmta-sendmail", "Postfix sendmail", "ratio"
  printf "%-34s %16.0f %16.0f %7.2fx\n", "submissions/s", n / rs, n / ps, (n / rs) / (n / ps)
  printf "%-34s %16s %16s\n", "  (each round)", re, pe
  printf "%-34s %16.3f %16.3f %7.2fx\n", "caller CPU ms/submission", rc * 1000 / n, pc * 1000 / n, rc / pc
  printf "%-34s %16.3f %16s\n", "server CPU ms/submission", rsv, "-"
  printf "%-34s %16.3f %16.3f %7.2fx\n", "total CPU ms/submission", rc * 1000 / n + rsv, pc * 1000 / n, (rc * 1000 / n + rsv) / (pc * 1000 / n)
  printf "%-34s %16.3f %16.3f %7.2fx\n", "process start ms (-V / -bz)", sr, sp, sr / sp
}'
