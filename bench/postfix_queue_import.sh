#!/usr/bin/env bash
# bench/postfix_queue_import.sh — how fast `ringmta-ctl import-postfix-queue`
# moves a Postfix queue into ringmta's maildrop.
#
#   bench/postfix_queue_import.sh [BUILD_DIR] [MESSAGES] [SIZE]
#   defaults:                     build       10000      2048
#
# Fills a private Postfix (config and queue_directory under a work dir; see
# tests/integration/postfix_instance.py for what running it as root here
# needs) with MESSAGES deferred messages: smtp-source (Debian's postfix
# package) submits them over SMTP, relayhost is a closed port, so each ends
# in deferred/ as a real queue file. Then Postfix stops and the import runs
# once into an empty maildrop (one durable file each: write, fsync, rename,
# fsync of the directory). Prints messages/s and CPU seconds per 1000
# messages (the import's utime+stime).
set -euo pipefail
build=${1:-build}
messages=${2:-10000}
size=${3:-2048}
ctl=$build/tools/ctl/ringmta-ctl
[[ -x $ctl ]] || { echo "no $ctl: build first (ninja -C $build tools/ctl/ringmta-ctl)" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
for p in postfix postconf smtp-source postqueue; do
  command -v $p >/dev/null || { echo "$p missing: apt-get install postfix" >&2; exit 1; }
done
. "$(dirname "$0")/lib.sh"
bench_work postfix-import
etc=$work/etc
queue=$work/queue
stop_postfix() { postfix -c "$etc" stop >/dev/null 2>&1 || true; }
trap 'stop_postfix; bench_cleanup' EXIT

mkdir -p "$etc" "$queue"
cp /etc/postfix/master.cf "$etc/" 2>/dev/null || cp /etc/postfix/master.cf.proto "$etc/master.cf"
cp /etc/postfix/dynamicmaps.cf "$etc/" 2>/dev/null || true
touch "$etc/main.cf"
port=$(free_port)
closed=$(free_port)
postconf -c "$etc" -e "queue_directory=$queue" "data_directory=$work/data" "maillog_file=$work/maillog" \
  "maillog_file_prefixes=$work" inet_interfaces=127.0.0.1 inet_protocols=ipv4 compatibility_level=3.6 \
  myhostname=postfix.bench.test mydestination= alias_maps= alias_database= mynetworks=127.0.0.0/8 \
  "relayhost=[127.0.0.1]:$closed" smtpd_client_connection_rate_limit=0 smtpd_client_message_rate_limit=0 \
  default_process_limit=50
sed -i "s/^smtp      inet/127.0.0.1:$port inet/" "$etc/master.cf"
postfix -c "$etc" start >/dev/null 2>&1 || fail "postfix start failed: $(tail -5 "$work/maillog" 2>/dev/null)"
wait_port "$port" || fail "postfix does not listen on $port"

count_files() { find "$queue/$1" -type f 2>/dev/null | wc -l; }
t0=$(date +%s.%N)
smtp-source -c -s 10 -m "$messages" -l "$size" -f bench@example.org -t rcpt@dest.example "127.0.0.1:$port" \
  >/dev/null
for _ in $(seq 600); do
  [[ $(count_files deferred) -ge $messages && $(count_files incoming) -eq 0 && $(count_files active) -eq 0 ]] && break
  sleep 1
done
t1=$(date +%s.%N)
deferred=$(count_files deferred)
echo "postfix: $deferred messages deferred in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
[[ $deferred -ge $messages ]] || fail "only $deferred of $messages deferred"
stop_postfix
for _ in $(seq 100); do [[ -e $queue/pid/master.pid ]] && kill -0 "$(cat "$queue/pid/master.pid")" 2>/dev/null || break; sleep 0.1; done
du -sh "$queue/deferred" | awk '{print "queue size: " $1}'

# The import, timed with its own CPU times (/usr/bin/time's format).
maildrop=$work/maildrop
/usr/bin/time -f '%e %U %S' -o "$work/time" "$ctl" import-postfix-queue "$queue" --maildrop "$maildrop" \
  >"$work/import.out" 2>"$work/import.err" || true
cat "$work/import.out"
grep -q '^imported' "$work/import.out" || { cat "$work/import.err"; fail "import failed"; }
read -r wall user sys <"$work/time"
written=$(ls "$maildrop" | wc -l)
awk -v n="$written" -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
  printf "import: %d maildrop files in %.2f s: %.0f messages/s, %.3f CPU s per 1000 messages (user %.2f s, sys %.2f s)\n",
         n, w, (w > 0 ? n / w : 0), (n > 0 ? (u + s) * 1000 / n : 0), u, s }'
