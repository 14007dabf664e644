#!/usr/bin/env bash
# bench/tls_compare.sh — what STARTTLS costs ringmta, as ratios measured side
# by side in one run (this machine is noisy: rounds alternate plaintext/TLS).
#
#   bench/tls_compare.sh [BUILD_DIR] [MESSAGES] [CONNECTIONS] [SIZE] [ROUNDS] [HANDSHAKES]
#   defaults:            build       10000      20            1024   3        3000
#   env: RINGMTA_ARGS (extra ringmta flags), TLS_DEADLINE (seconds one run
#        may take; default 60 + MESSAGES/100)
#
# (a) handshakes: `smtpblast --no-reuse [--tls]` sends HANDSHAKES messages,
#     each on a new connection (with --tls: a full TLS 1.3 handshake each)
#     to ringmta --hold true --shards 1 (accept and spool only). The same
#     engine configuration, certificate included, serves both.
# (b) relay: smtpblast --pipelining [--tls] sends MESSAGES of SIZE bytes
#     -> ringmta --shards 1 --relay-host SINK (TLS: --tls-cert/--tls-key and
#     --outbound-tls required; plaintext: no certificate, --outbound-tls off)
#     -> smtpblast --sink [--tls-cert/--tls-key] --expect MESSAGES. Timed from
#     the client's start to the sink's last accepted message.
# CPU per message: ringmta from /proc/PID/stat (utime + stime of all its
# threads) over the run; smtpblast client and sink from their own getrusage
# (their --json). Needs no root. Every wait is bounded.
set -euo pipefail
build=${1:-build}
messages=${2:-10000}
conns=${3:-20}
size=${4:-1024}
rounds=${5:-3}
handshakes=${6:-3000}
deadline=${TLS_DEADLINE:-$((60 + messages / 100))}
ringmta=$build/engine/ringmta
blast=$build/bench/smtpblast
py=/usr/bin/python3
for b in "$ringmta" "$blast"; do
  [[ -x $b ]] || { echo "tls_compare: no $b: build first (ninja -C $build)" >&2; exit 1; }
done
command -v openssl >/dev/null || { echo "tls_compare: openssl missing: run tools/setup.sh" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ringmta-tls.XXXXXX)
chmod 755 "$work"  # run as root, ringmta drops to its own user and must reach the spool
cleanup() {
  set +e
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  for p in $(jobs -p); do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
tick=$(getconf CLK_TCK)
fail() { echo "tls_compare: $*" >&2; exit 1; }

# An ECDSA P-256 certificate, as the README recommends for ringmta.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 2 -subj /CN=mx.tls-compare.test >/dev/null 2>&1 ||
  fail "openssl could not make a certificate"
cert=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem")

. "$(dirname "$0")/lib.sh"  # free_port, wait_port, stop_pid
cpu_ns() { awk -v hz="$tick" '{printf "%.0f\n", ($14 + $15) / hz * 1e9}' "/proc/$1/stat"; }
# json FILE KEY...: the values of top-level keys of a smtpblast --json file.
json() { $py -c 'import json, sys; d = json.load(open(sys.argv[1])); print(*(d[k] for k in sys.argv[2:]))' "$@"; }
# wait_exit PID SECONDS: wait for PID to end; 1 if it is still running then.
wait_exit() {
  local end=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    ((SECONDS < end)) || return 1
    sleep 0.02
  done
  wait "$1" 2>/dev/null || true
}

# start_engine TAG ARGS...: ringmta on a fresh port and spool; sets eng_pid, eng_port.
start_engine() {
  local tag=$1; shift
  eng_port=$(free_port)
  rm -rf "$work/spool"
  "$ringmta" --listen "127.0.0.1:$eng_port" --spool "$work/spool" --shards 1 --log-level warn \
    "$@" ${RINGMTA_ARGS:-} >"$work/engine.$tag.log" 2>&1 &
  eng_pid=$!
  wait_port "$eng_port" || { cat "$work/engine.$tag.log" >&2; fail "ringmta does not accept on $eng_port"; }
}

# client TAG ARGS...: run smtpblast against the engine; its JSON is $work/client.TAG.json.
client() {
  local tag=$1; shift
  timeout --foreground "$deadline" "$blast" --server "127.0.0.1:$eng_port" --quiet \
    --json "$work/client.$tag.json" "$@" >"$work/client.$tag.out" 2>&1 ||
    { cat "$work/client.$tag.out" >&2; fail "$tag: smtpblast failed or took over $deadline s"; }
}

# handshake_run MODE: prints "msg/s engine_us/msg client_us/msg handshakes".
handshake_run() {
  local mode=$1 tls=() c0 c1
  [[ $mode == tls ]] && tls=(--tls)
  start_engine "hs-$mode" --hold true "${cert[@]}"
  c0=$(cpu_ns "$eng_pid")
  client "hs-$mode" --no-reuse --messages "$handshakes" --connections "$conns" --size "$size" "${tls[@]}"
  c1=$(cpu_ns "$eng_pid")
  stop_pid "$eng_pid"
  read -r rate ccpu hs < <(json "$work/client.hs-$mode.json" msgs_per_s cpu_seconds tls_handshakes)
  awk -v r="$rate" -v c="$((c1 - c0))" -v cc="$ccpu" -v n="$handshakes" -v hs="$hs" \
    'BEGIN { printf "%.0f %.1f %.1f %d\n", r, c / 1e3 / n, cc * 1e6 / n, hs }'
}

# relay_run MODE: prints "seconds msg/s engine_us/msg client_us/msg sink_us/msg sink_tls_messages".
relay_run() {
  local mode=$1 tls=() sink_tls=() eng_tls=(--outbound-tls off) sink_pid sink_port c0 c1 t0 t1 line
  if [[ $mode == tls ]]; then
    tls=(--tls); sink_tls=("${cert[@]}"); eng_tls=("${cert[@]}" --outbound-tls required)
  fi
  "$blast" --sink --listen 127.0.0.1:0 --expect "$messages" --json "$work/sink.$mode.json" \
    "${sink_tls[@]}" >"$work/sink.$mode.out" 2>&1 &
  sink_pid=$!
  for _ in $(seq 200); do
    line=$(head -1 "$work/sink.$mode.out" 2>/dev/null || true)
    [[ $line == "sink: listening on "* ]] && break
    sleep 0.05
  done
  sink_port=${line##*:}
  [[ $sink_port =~ ^[0-9]+$ ]] || { cat "$work/sink.$mode.out" >&2; fail "the sink did not start"; }
  start_engine "relay-$mode" --relay-host "127.0.0.1:$sink_port" "${eng_tls[@]}"
  c0=$(cpu_ns "$eng_pid")
  t0=$(date +%s.%N)
  client "relay-$mode" --pipelining --messages "$messages" --connections "$conns" --size "$size" "${tls[@]}"
  wait_exit "$sink_pid" "$deadline" ||
    { cat "$work/sink.$mode.out" >&2; fail "relay $mode: the sink did not get $messages messages in $deadline s"; }
  c1=$(cpu_ns "$eng_pid")
  stop_pid "$eng_pid"
  read -r t1 sink_cpu sink_tls_msgs < <(json "$work/sink.$mode.json" last_accepted cpu_seconds tls_messages)
  read -r ccpu < <(json "$work/client.relay-$mode.json" cpu_seconds)
  awk -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v cc="$ccpu" -v sc="$sink_cpu" -v n="$messages" \
    -v st="$sink_tls_msgs" \
    'BEGIN { printf "%.3f %.0f %.1f %.1f %.1f %d\n", t1 - t0, n / (t1 - t0), c / 1e3 / n, cc * 1e6 / n, sc * 1e6 / n, st }'
}

echo "tls_compare: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ringmta --shards 1; $conns connections, $size-byte messages"
echo
echo "(a) handshakes: smtpblast --no-reuse [--tls], $handshakes messages -> ringmta --hold true"
printf "%-6s %-6s %10s %16s %16s %11s\n" round mode "msg/s" "ringmta us/msg" "client us/msg" handshakes
declare -A hs_rate hs_cpu
for r in $(seq "$rounds"); do
  for mode in plain tls; do
    read -r rate cpu ccpu hs < <(handshake_run "$mode")
    printf "%-6s %-6s %10s %16s %16s %11s\n" "$r" "$mode" "$rate" "$cpu" "$ccpu" "$hs"
    hs_rate[$mode]=$(awk -v a="${hs_rate[$mode]:-0}" -v b="$rate" 'BEGIN {print a + b}')
    hs_cpu[$mode]=$(awk -v a="${hs_cpu[$mode]:-0}" -v b="$cpu" 'BEGIN {print a + b}')
  done
done

echo
echo "(b) relay: smtpblast --pipelining [--tls], $messages messages -> ringmta [STARTTLS in, --outbound-tls required] -> smtpblast --sink [--tls-cert]"
printf "%-6s %-6s %9s %9s %16s %15s %13s %12s\n" round mode seconds "msg/s" "ringmta us/msg" "client us/msg" "sink us/msg" "sink TLS msgs"
declare -A rl_rate rl_cpu
for r in $(seq "$rounds"); do
  for mode in plain tls; do
    read -r secs rate cpu ccpu scpu stls < <(relay_run "$mode")
    printf "%-6s %-6s %9s %9s %16s %15s %13s %12s\n" "$r" "$mode" "$secs" "$rate" "$cpu" "$ccpu" "$scpu" "$stls"
    rl_rate[$mode]=$(awk -v a="${rl_rate[$mode]:-0}" -v b="$rate" 'BEGIN {print a + b}')
    rl_cpu[$mode]=$(awk -v a="${rl_cpu[$mode]:-0}" -v b="$cpu" 'BEGIN {print a + b}')
  done
done

echo
echo "means over $rounds rounds (TLS / plaintext):"
awk -v n="$rounds" -v hp="${hs_rate[plain]}" -v ht="${hs_rate[tls]}" -v hcp="${hs_cpu[plain]}" -v hct="${hs_cpu[tls]}" \
  -v rp="${rl_rate[plain]}" -v rt="${rl_rate[tls]}" -v rcp="${rl_cpu[plain]}" -v rct="${rl_cpu[tls]}" 'BEGIN {
  printf "(a) new connection per message: plaintext %.0f msg/s, TLS %.0f msg/s (handshakes/s): %.2fx; ringmta CPU %.0f -> %.0f us/msg (+%.0f us per message: the handshake and its records)\n",
    hp / n, ht / n, ht / hp, hcp / n, hct / n, (hct - hcp) / n
  printf "(b) relay: plaintext %.0f msg/s, STARTTLS both hops %.0f msg/s: %.2fx; ringmta CPU %.0f -> %.0f us/msg: %.2fx\n",
    rp / n, rt / n, rt / rp, rcp / n, rct / n, rct / rcp
}'
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
