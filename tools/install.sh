#!/usr/bin/env bash
# tools/install.sh — install ringmta as a system service (tools/setup.sh
# --install runs it after the build dependencies). As root:
#   /usr/local/sbin/        ringmta, ringmta-ctl, ringmta-spool, ringmta-sendmail (when built)
#   /etc/systemd/system/    ringmta.service (tools/systemd/ringmta.service)
#   /etc/ringmta/           ringmta.toml, a commented start (never overwritten)
#   /var/spool/ringmta/     the spool, owned by user ringmta, mode 0700
#   /usr/local/share/doc/ringmta/README.md
# It builds a release build in build-release/ first (BUILD=DIR installs
# from a build of yours instead). PREFIX=/opt/x puts the programs in
# /opt/x/sbin (then edit the unit's ExecStart= lines).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
if [[ $EUID -ne 0 ]]; then
  echo "install: run as root (it writes /usr/local/sbin, /etc and /var/spool)" >&2
  exit 1
fi
build=${BUILD:-build-release}
[[ -f $build/build.ninja ]] ||
  meson setup "$build" --buildtype=release -Dtests=false -Dbenchmarks=false >/dev/null
echo "install: building (ninja -C $build)"
ninja -C "$build" >/dev/null
install -d -m 0755 "$prefix/sbin" "$prefix/share/doc/ringmta"
for p in engine/ringmta tools/ctl/ringmta-ctl tools/ringmta-spool tools/sendmail/ringmta-sendmail; do
  if [[ -x $build/$p ]]; then
    install -m 0755 "$build/$p" "$prefix/sbin/"
    echo "install: $prefix/sbin/$(basename "$p")"
  fi
done
install -m 0644 README.md "$prefix/share/doc/ringmta/README.md"
install -d -m 0755 /etc/ringmta /etc/systemd/system
if [[ -e /etc/ringmta/ringmta.toml ]]; then
  echo "install: /etc/ringmta/ringmta.toml exists: kept (the new example is tools/systemd/ringmta.toml)"
else
  install -m 0644 tools/systemd/ringmta.toml /etc/ringmta/ringmta.toml
  echo "install: /etc/ringmta/ringmta.toml (review it: server.listen, server.hostname, relay.networks)"
fi
install -m 0644 tools/systemd/ringmta.service /etc/systemd/system/ringmta.service
echo "install: /etc/systemd/system/ringmta.service"
getent passwd ringmta >/dev/null ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ringmta
install -d -m 0700 -o ringmta -g ringmta /var/spool/ringmta
echo "install: /var/spool/ringmta (user ringmta, 0700)"
"$prefix/sbin/ringmta" --config /etc/ringmta/ringmta.toml --check-config
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  echo "install: done; start it with: systemctl enable --now ringmta"
else
  echo "install: done; systemd is not running here: start it with" \
       "$prefix/sbin/ringmta --config /etc/ringmta/ringmta.toml"
fi
