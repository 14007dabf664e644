# bench/lib.sh — small helpers the bench scripts share; source it:
#   . "$(dirname "$0")/lib.sh"

# free_port: a loopback TCP port nobody listens on right now.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT: 0 once 127.0.0.1:PORT accepts, 1 after 10 s.
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# stop_pid PID: TERM, wait up to 10 s, then KILL.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# bench_work NAME: a work directory ($work, removed at exit) that ringmta
# started as root can reach, $pids (started processes, stopped at exit),
# $tick (clock ticks per second, for /proc CPU times) and fail MESSAGE
# (prints "NAME: MESSAGE", exits 1). For scripts whose clean-up is just that.
bench_work() {
  bench_name=$1
  work=$(mktemp -d "/var/tmp/ringmta-$1.XXXXXX")
  chmod 755 "$work"  # ringmta started as root drops to its own user and must reach the spool
  pids=()
  trap bench_cleanup EXIT
  trap 'echo "interrupted" >&2; exit 130' INT TERM
  tick=$(getconf CLK_TCK)
  fail() { echo "$bench_name: $*" >&2; exit 1; }
}
bench_cleanup() {
  set +e
  for p in "${pids[@]}"; do stop_pid "$p"; done
  rm -rf "$work"
}
