#!/usr/bin/env bash
# tools/setup.sh — install everything ringmta needs to build, run and test on
# Debian 12, as root. Safe to run again: apt skips what is already there.
#
#   tools/setup.sh            build deps + test peers
#   tools/setup.sh --build    build deps only
#   tools/setup.sh --run      build deps + what README's Quick start example uses (swaks)
#   tools/setup.sh --install  build deps, then tools/install.sh: the binaries in /usr/local/sbin,
#                             the systemd unit, /etc/ringmta/ringmta.toml, /var/spool/ringmta
set -euo pipefail

build_pkgs=(
  meson ninja-build pkg-config g++ cmake
  liburing-dev libwolfssl-dev libmimalloc-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev libc-ares-dev libcrypt-dev libre2-dev libssl-dev libhttp-parser-dev
  libsimdjson-dev nlohmann-json3-dev liblmdb-dev
)
# Real peers the tests start themselves, clang for the libFuzzer harnesses,
# and stress-ng for running the integration tests beside load (README, "Tests").
test_pkgs=(
  clang libclang-rt-14-dev
  swaks libnet-ssleay-perl libauthen-sasl-perl curl postfix python3-aiosmtpd dnsmasq-base openssl
  gnuplot-nox whois stress-ng
  python3-dkim python3-nacl python3-dnspython opendkim-tools
  prometheus wrk lmdb-utils
  bsd-mailx php-cli dovecot-lmtpd systemd
)

# What the Quick start's example after tools/run.sh uses.
run_pkgs=(swaks libnet-ssleay-perl)

pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  --build | --install) ;;
  --run) pkgs+=("${run_pkgs[@]}") ;;
  *) pkgs+=("${test_pkgs[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "setup: need root to install: ${missing[*]} (run as root or with sudo)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Postfix must not start a system mail service on port 25 as a side effect:
  # the tests run their own instances. policy-rc.d tells invoke-rc.d "no".
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The unprivileged user the daemon runs as once started as root (--user).
if [[ $EUID -eq 0 ]] && ! getent passwd ringmta >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ringmta
  echo "setup: created system user ringmta"
fi
echo "setup: dependencies present"
if [[ "${1:-}" == --install ]]; then
  exec "$(dirname "$0")/install.sh"
fi
