#!/usr/bin/env bash
# tools/run.sh — install what ringmta needs, build it, and start it.
#
#   sudo tools/run.sh                 # embedded defaults: 127.0.0.1:2525 and [::1]:2525
#   sudo tools/run.sh --help          # every flag, with its default
#
# Flags after the script name go to ringmta. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --run
[[ -f build/build.ninja ]] || meson setup build --buildtype=release >/dev/null
echo "run: building (ninja -C build)"
ninja -C build engine/ringmta tools/ringmta-spool
# Started as root, ringmta runs as user ringmta (--user) and keeps its spool
# in ./ringmta-spool. A checkout under a directory closed to other users
# (/root is 0700) would be out of that user's reach: use /var/spool/ringmta
# then. A --spool among the flags still wins (the last one counts).
spool_args=()
if [[ $EUID -eq 0 ]] && getent passwd ringmta >/dev/null; then
  dir=$PWD
  while [[ "$dir" != / ]]; do
    if [[ $(( 0$(stat -c %a "$dir") & 1 )) -eq 0 ]]; then
      spool_args=(--spool /var/spool/ringmta)
      # So that README's `build/tools/ringmta-spool ./ringmta-spool` works
      # as printed.
      [[ -e ringmta-spool || -L ringmta-spool ]] || ln -s /var/spool/ringmta ringmta-spool
      if [[ "$(readlink ringmta-spool)" == /var/spool/ringmta ]]; then
        echo "run: $dir is closed to user ringmta: the spool is /var/spool/ringmta" \
             "(./ringmta-spool links to it)"
      else
        echo "run: $dir is closed to user ringmta: the spool is /var/spool/ringmta;" \
             "./ringmta-spool is another (older) spool: look at /var/spool/ringmta instead"
      fi
      break
    fi
    dir=$(dirname "$dir")
  done
fi
exec build/engine/ringmta "${spool_args[@]}" "$@"
