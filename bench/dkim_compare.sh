#!/usr/bin/env bash
# bench/dkim_compare.sh — what DKIM signing costs ringmta as a relay, and
# how fast each library signs, side by side in one run:
#
#   bench/dkim_compare.sh [BUILD_DIR] [MESSAGES] [ROUNDS]
#   defaults:             build       10000      3
#   env: DKIM_SHARDS (ringmta --shards, default 2), DKIM_SESSIONS (20),
#        DKIM_SCENARIOS (default "plain rsa2048 ed25519"; also "dual": RSA-2048
#        and Ed25519 on every message)
#
# 1. Signs per second on one core: bench/dkim_crypto_benchmark (libcrypto
#    and wolfCrypt, the same keys, as DKIM signs) beside `openssl speed`.
# 2. Relay runs, rounds alternating, each a fresh ringmta and spool relaying
#    to one smtpblast sink (--relay-host): no [[dkim]] (plain), or a key for
#    the generator's From: domain. smtpblast --pipelining, 1 KB messages, 1
#    recipient. Throughput is MESSAGES / (generator start -> the sink has
#    them all); CPU is ringmta's (all threads, the signing threads
#    included: utime + stime from /proc) per message; the loop stall is
#    the largest p99.9 (and max) of a shard loop iteration's busy time over
#    the shards, from ringmta's stop log. Exits non-zero if a run fails.
set -euo pipefail
build=${1:-build}
messages=${2:-10000}
rounds=${3:-3}
shards=${DKIM_SHARDS:-2}
sessions=${DKIM_SESSIONS:-20}
here=$(cd "$(dirname "$0")" && pwd)
ringmta=$build/engine/ringmta
smtpblast=$build/bench/smtpblast
crypto=$build/bench/dkim_crypto_benchmark
for b in "$ringmta" "$smtpblast" "$crypto"; do
  [[ -x $b ]] || { echo "dkim_compare: no $b: build first (ninja -C $build)" >&2; exit 1; }
done
command -v openssl >/dev/null || { echo "dkim_compare: openssl missing: run tools/setup.sh" >&2; exit 1; }
. "$here/lib.sh"  # free_port, wait_port, stop_pid, bench_work

bench_work dkim_compare  # $work, $pids, $tick, fail (lib.sh)

echo "dkim_compare: signs per second, one core" >&2
"$crypto" --benchmark_min_time=1 --benchmark_filter='Sign' --benchmark_format=csv 2>/dev/null >"$work/crypto.csv" ||
  fail "dkim_crypto_benchmark failed"
openssl speed -seconds 3 rsa2048 ed25519 2>/dev/null >"$work/speed.txt" || fail "openssl speed failed"

# Keys for the generator's From: domain (smtpblast sends From: <blast@smtpblast.test>).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.key" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$work/ed.key" 2>/dev/null
entry() { printf '[[dkim]]\ndomain = "smtpblast.test"\nselector = "%s"\nkey = "%s"\n\n' "$1" "$2"; }
entry s1 "$work/rsa.key" >"$work/rsa2048.toml"
entry e1 "$work/ed.key" >"$work/ed25519.toml"
cat "$work/rsa2048.toml" "$work/ed25519.toml" >"$work/dual.toml"

# run NAME [ringmta args...]: one measured run; appends
# "NAME MSG_PER_S CPU_US_PER_MSG STALL_P999_US STALL_MAX_US SHARD_US SIGN_US IOWQ_US"
# to $work/results (the last three: CPU per message by thread kind, counted
# from the start of ringmta, so they include its start-up).
run() {
  local name=$1
  shift
  local port sink_port spool rpid spid c0 c1 t0 t1
  port=$(free_port)
  sink_port=$(free_port)
  spool=$work/spool.$name.$RANDOM
  mkdir -p "$spool"
  chmod 777 "$spool"
  "$smtpblast" --sink --listen "127.0.0.1:$sink_port" --expect "$messages" --quiet \
    --timeout $((120 + messages / 50)) >"$work/sink.log" 2>&1 &
  spid=$!
  pids+=("$spid")
  "$ringmta" --listen "127.0.0.1:$port" --spool "$spool" --shards "$shards" \
    --relay-host "127.0.0.1:$sink_port" "$@" >"$work/ringmta.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_port "$port" || fail "$name: ringmta did not start: $(cat "$work/ringmta.log")"
  wait_port "$sink_port" || fail "$name: the sink did not start"
  c0=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  t0=$(date +%s.%N)
  "$smtpblast" --server "127.0.0.1:$port" --connections "$sessions" --messages "$messages" --pipelining \
    --to "sink@bench.test" --quiet >"$work/gen.log" 2>&1 || fail "$name: generator: $(tail -3 "$work/gen.log")"
  wait "$spid" || fail "$name: the sink did not get $messages messages: $(tail -3 "$work/sink.log")"
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  # Where the CPU went: signing threads (nice 10), io_uring's workers (the
  # spool's RWF_DSYNC writes), the rest (shards, main).
  local split
  split=$(for t in /proc/$rpid/task/*; do
      printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" "$(awk '{print $14 + $15, $19}' "$t/stat")"
    done | awk -v m="$messages" -v hz="$tick" '
      { if ($3 == 10) s += $2; else if ($1 ~ /^iou-wrk/) w += $2; else o += $2 }
      END { printf "%.1f %.1f %.1f", o / hz * 1e6 / m, s / hz * 1e6 / m, w / hz * 1e6 / m }')
  stop_pid "$rpid"
  if [[ $name != plain ]] && ! grep -q "dkim: $messages messages signed" "$work/ringmta.log"; then
    fail "$name: ringmta did not sign every message: $(grep 'dkim:' "$work/ringmta.log" | tail -1)"
  fi
  local stall
  stall=$(awk '/loop: .* iterations/ {
      for (i = 1; i <= NF; i++) { if ($i == "p99.9") p = $(i + 1); if ($i == "max") m = $(i + 1) }
      if (p + 0 > pm) pm = p + 0; if (m + 0 > mm) mm = m + 0 }
    END { printf "%d %d", pm, mm }' "$work/ringmta.log")
  rm -rf "$spool"
  awk -v n="$name" -v m="$messages" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$tick" -v s="$stall" \
    -v parts="$split" 'BEGIN { printf "%s %.0f %.1f %s %s\n", n, m / (t1 - t0), (c1 - c0) / hz * 1e6 / m, s, parts }' \
    >>"$work/results"
  tail -1 "$work/results" | awk '{printf "  %-8s %8s msg/s %7s us/msg (shards %s, signing %s, io workers %s)  loop p99.9 %s us, max %s us\n", $1, $2, $3, $6, $7, $8, $4, $5}' >&2
}

echo "dkim_compare: $messages messages x $rounds rounds, --shards $shards, $sessions sessions" >&2
for ((r = 1; r <= rounds; r++)); do
  echo "round $r" >&2
  for s in ${DKIM_SCENARIOS:-plain rsa2048 ed25519}; do
    case $s in
      plain) run plain ;;
      rsa2048 | ed25519 | dual) run "$s" --config "$work/$s.toml" ;;
      *) fail "unknown scenario $s" ;;
    esac
  done
done

/usr/bin/python3 - "$work" "$messages" "$rounds" "$shards" <<'PY'
import csv, re, statistics, sys
work, messages, rounds, shards = sys.argv[1:5]
print('Signs per second on one core (bench/dkim_crypto_benchmark; openssl speed in the same run)\n')
rate = {}
for row in csv.DictReader(l for l in open(work + '/crypto.csv') if not l.startswith('#')):
    rate[row['name'].replace('/threads:1', '')] = 1e9 / float(row['cpu_time'])
speed = open(work + '/speed.txt').read()
m_rsa = re.search(r'rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)', speed)
m_ed = re.search(r'\(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)', speed)
print('| signature | libcrypto (EVP) | wolfCrypt | openssl speed |')
print('|---|---:|---:|---:|')
print('| RSA-2048 (rsa-sha256) | %.0f | %.0f | %s |' % (rate['BM_OpenSSL_RSA2048_Sign'], rate['BM_WolfCrypt_RSA2048_Sign'],
                                                  m_rsa.group(1) if m_rsa else '?'))
print('| Ed25519 (ed25519-sha256) | %.0f | %.0f (%.0f with the per-sign key import ringmta does) | %s |'
      % (rate['BM_OpenSSL_Ed25519_Sign'], rate['BM_WolfCrypt_Ed25519_Sign'], rate['BM_WolfCrypt_Ed25519_ImportAndSign'],
         m_ed.group(1) if m_ed else '?'))
if 'BM_OpenSSL_RSA2048_Sign/threads:2' in rate:
    print('| RSA-2048, libcrypto, two threads at once (per thread) | %.0f | | |' % rate['BM_OpenSSL_RSA2048_Sign/threads:2'])
print('\nringmta uses libcrypto for RSA and wolfCrypt for Ed25519 (proto/dkim_key.h).\n')
rows = {}
for line in open(work + '/results'):
    name, r, cpu, p999, mx, sh, sg, wq = line.split()
    rows.setdefault(name, []).append((float(r), float(cpu), int(p999), int(mx), float(sh), float(sg), float(wq)))
label = {'plain': 'no signing', 'rsa2048': 'RSA-2048', 'ed25519': 'Ed25519', 'dual': 'RSA-2048 + Ed25519'}
print('Relaying %s messages per run, %s rounds (medians; every run listed), ringmta --shards %s\n' % (messages, rounds, shards))
print('| signing | msg/s | CPU us/msg | of which shards / signing threads / io workers | loop p99.9 us (max) | runs (msg/s, us/msg) |')
print('|---|---:|---:|---|---:|---|')
med = {}
for n in [n for n in ('plain', 'rsa2048', 'ed25519', 'dual') if n in rows]:
    v = rows[n]
    med[n] = (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
    runs = ', '.join('%.0f / %.1f' % (x[0], x[1]) for x in v)
    split = ' / '.join('%.0f' % statistics.median(x[k] for x in v) for k in (4, 5, 6))
    print('| %s | %.0f | %.1f | %s | %d (%d) | %s |' % (label[n], med[n][0], med[n][1], split,
                                                    max(x[2] for x in v), max(x[3] for x in v), runs))
print()
for n in ('rsa2048', 'ed25519', 'dual'):
    if n in med and 'plain' in med:
        print('%s: %+.1f us CPU per message, %.2f x the throughput of no signing'
              % (label[n], med[n][1] - med['plain'][1], med[n][0] / med['plain'][0]))
PY
