#!/usr/bin/env bash
# bench/postfix_instance.sh — a private, temporary Postfix relay for benchmarks.
#
#   bench/postfix_instance.sh start DIR LISTEN_PORT RELAY_HOST:PORT
#   bench/postfix_instance.sh stop DIR
#   bench/postfix_instance.sh pids DIR     # PIDs of this instance's processes
#   bench/postfix_instance.sh queue DIR    # messages in this instance's queue
#
# `start` writes a complete, separate Postfix instance into DIR and starts it:
#   DIR/etc/main.cf, DIR/etc/master.cf   its config_directory
#   DIR/queue                            its queue_directory (pid files in DIR/queue/pid)
#   DIR/data                             its data_directory
#   DIR/maillog                          its log (postlogd; no syslog needed)
# It listens only on 127.0.0.1:LISTEN_PORT, accepts mail from 127.0.0.0/8 for
# any domain, and relays all of it to [RELAY_HOST]:PORT. No DNS, no local
# delivery, no TLS. Must run as root (Postfix's master starts as root).
# POSTFIX_MAIN_EXTRA (lines appended to main.cf, overriding what is above
# them) changes that: tests/integration/test_feedback.py turns local
# delivery on for one domain so that Postfix bounces a message to a user
# that does not exist with a DSN of its own.
#
# What Postfix 3.7 (Debian 12) needs for a private instance, as found here:
# - `postfix -c DIR/etc start|stop|check` run as root accepts any -c directory.
#   alternate_config_directories / multi_instance_directories (in the default
#   /etc/postfix/main.cf) are only consulted for non-root callers and
#   set-gid programs (postdrop, postqueue); this script uses neither, so the
#   machine's /etc/postfix is never read for permission and never written.
#   (On this machine /etc/postfix/main.cf does not even exist.) Postfix still
#   reads the shared, read-only files of the package: meta_directory
#   /etc/postfix (postfix-files, dynamicmaps.cf) and /usr/lib/postfix.
# - Since the instance is not listed in a default main.cf's
#   multi_instance_directories, postfix-script treats it as a "primary"
#   instance and its check-warn step also inspects (read-only) the shared
#   directories; that is harmless.
# - DIR must be reachable by the `postfix` user (its daemons chdir into
#   DIR/queue after dropping privileges): DIR is chmod 755 here, and every
#   parent must be searchable by others (/tmp and /var/tmp are).
# - queue_directory must be owned by root and not group/other-writable;
#   data_directory by the postfix user. `postfix check` (post-install
#   create-missing) creates the queue subdirectories with the right owners.
# - maillog_file must start with one of maillog_file_prefixes (default
#   "/var, /dev/stdout"), so maillog_file_prefixes is set to DIR, and the
#   `postlog unix-dgram ... postlogd` service must be in master.cf.
# - All services run unchrooted (chroot column "n"): a chroot would need
#   copies of /etc files inside DIR/queue.
# - Postfix passes the instance's config directory to all its processes as
#   MAIL_CONFIG=DIR/etc in their environment; `pids` finds them by that.
set -euo pipefail

die() { echo "postfix_instance.sh: $*" >&2; exit 1; }
usage() { sed -n '3,6p' "$0" | sed 's/^# *//' >&2; exit 2; }
command -v postfix >/dev/null || PATH=$PATH:/usr/sbin
command -v postfix >/dev/null || die "postfix missing: run tools/setup.sh"

(($# >= 2)) || usage
cmd=$1
dir=$(realpath -m "$2")
[[ $dir == / || $dir == /etc/postfix* ]] && die "refusing DIR=$dir"
etc=$dir/etc

master_pid() {
  local f=$dir/queue/pid/master.pid pid
  [[ -f $f ]] || return 1
  pid=$(awk '{print $1; exit}' "$f")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# All processes whose environment names this instance's config directory
# (the master, its daemons, and postfix/postfix-script while they run).
instance_pids() {
  local f
  for f in /proc/[0-9]*/environ; do
    grep -qzxF "MAIL_CONFIG=$etc" "$f" 2>/dev/null && { f=${f#/proc/}; echo "${f%/environ}"; }
  done
  return 0
}

wait_port() {
  local _
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

case $cmd in
start)
  (($# == 4)) || usage
  port=$3 relay=$4
  [[ $port =~ ^[0-9]+$ ]] || die "bad LISTEN_PORT $port"
  [[ $relay =~ ^([^:]+):([0-9]+)$ ]] || die "bad RELAY_HOST:PORT $relay"
  relayhost="[${BASH_REMATCH[1]}]:${BASH_REMATCH[2]}"
  ((EUID == 0)) || die "must run as root"
  id postfix >/dev/null 2>&1 || die "no postfix user: run tools/setup.sh"
  master_pid >/dev/null && die "an instance is already running in $dir"
  mkdir -p "$etc" "$dir/queue" "$dir/data"
  chown root:root "$dir" "$etc" "$dir/queue"
  chmod 755 "$dir" "$etc" "$dir/queue"
  chown postfix "$dir/data"
  chmod 700 "$dir/data"
  runuser -u postfix -- test -x "$dir/queue" ||
    die "the postfix user cannot reach $dir/queue: make every parent of $dir searchable (o+x)"

  cat >"$etc/main.cf" <<EOF
# Private benchmark instance written by bench/postfix_instance.sh; not the
# machine's Postfix. Start/stop with postfix -c $etc.
compatibility_level = 3.6
config_directory = $etc
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
syslog_name = postfix-bench
myhostname = postfix-bench.test
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = $relayhost
# No DNS at all: no MX/A lookups for the relay host (it is a literal
# address) and no reverse lookup of clients.
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
# No local delivery: nothing is local (mydestination is empty) and the local
# transport is an error.
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
biff = no
smtpd_client_restrictions =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
default_process_limit = 100
default_destination_concurrency_limit = 20
${POSTFIX_MAIN_EXTRA:-}
EOF

  cat >"$etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
local     unix  -       n       n       -       -       local
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  chmod 644 "$etc/main.cf" "$etc/master.cf"

  # `postfix check` creates the queue directories (post-install
  # create-missing) and checks the instance; `postfix start` would run the
  # same checks again (~3 s here) unless queue/quick-start exists, which
  # postfix-script itself uses for that after `postfix quick-stop`.
  out=$(postfix -c "$etc" check 2>&1) || die "postfix check failed: $out"
  touch "$dir/queue/quick-start"
  out=$(postfix -c "$etc" start 2>&1) || {
    echo "$out" >&2; tail -n 20 "$dir/maillog" 2>/dev/null >&2 || true
    die "postfix start failed"
  }
  wait_port "$port" || {
    tail -n 20 "$dir/maillog" 2>/dev/null >&2 || true
    die "Postfix in $dir does not accept on 127.0.0.1:$port after 10 s"
  }
  ;;

stop)
  if pid=$(master_pid); then
    postfix -c "$etc" stop >/dev/null 2>&1 || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  # Daemons notice their master is gone and exit by themselves; whatever of
  # this instance is still there after 2 s is killed.
  for sig in "" "" "" "" TERM TERM KILL; do
    left=$(instance_pids)
    [[ -z $left ]] && break
    [[ -n $sig ]] && kill "-$sig" $left 2>/dev/null || true
    sleep 0.5
  done
  [[ -z $(instance_pids) ]] || die "processes of $dir still running: $(instance_pids | xargs)"
  ;;

pids)
  instance_pids
  ;;

queue)
  n=0
  for q in maildrop incoming active deferred hold; do
    [[ -d $dir/queue/$q ]] && n=$((n + $(find "$dir/queue/$q" -type f | wc -l)))
  done
  echo "$n"
  ;;

*) usage ;;
esac
