#!/usr/bin/env bash
# tools/run.sh — install what ringmta needs, build it, and start it.
#
#   sudo tools/run.sh                 # embedded defaults: 127.0.0.1:2525 and [::1]:2525
#   sudo tools/run.sh --help          # every flag, with its default
#
# Flags after the script name go to ringmta. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --build
[[ -f build/build.ninja ]] || meson setup build --buildtype=release >/dev/null
echo "run: building (ninja -C build)"
ninja -C build engine/ringmta tools/ringmta-spool
exec build/engine/ringmta "$@"
