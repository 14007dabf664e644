#!/usr/bin/env bash
# tools/setup.sh — install everything ringmta needs to build, run and test on
# Debian 12, as root. Safe to run again: apt skips what is already there.
#
#   tools/setup.sh            build deps + test peers
#   tools/setup.sh --build    build deps only
#   tools/setup.sh --run      build deps + what README's Quick start example uses (swaks)
#   tools/setup.sh --install  build deps, then tools/install.sh: the binaries in /usr/local/sbin,
#                             the systemd unit, /etc/ringmta/ringmta.toml, /var/spool/ringmta
#   tools/setup.sh --sendmail /usr/sbin/sendmail and /usr/lib/sendmail -> the installed
#                             ringmta-sendmail, unless another MTA's package owns them
set -euo pipefail

# --sendmail: link sendmail(1)'s two customary paths to ringmta-sendmail
# (README "sendmail"). A path another package owns (Postfix, Exim, ...) is
# left alone: its package would put it back on the next upgrade. Debian's
# Postfix does not use update-alternatives for it, so the way to take the
# path over is a local dpkg diversion, which this prints. SENDMAIL_ROOT=DIR
# works under DIR instead of / (to try it out); RINGMTA_SENDMAIL=PATH names
# the program when it is not in PREFIX/sbin (default /usr/local/sbin).
link_sendmail() {
  local root=${SENDMAIL_ROOT:-} target="" path owner rc=0
  for c in "${RINGMTA_SENDMAIL:-}" "${PREFIX:-/usr/local}/sbin/ringmta-sendmail" /usr/sbin/ringmta-sendmail \
           "$(command -v ringmta-sendmail 2>/dev/null || true)"; do
    if [[ -n $c && -x $root$c ]]; then target=$c; break; fi
  done
  if [[ -z $target ]]; then
    echo "setup: ringmta-sendmail is not installed (tools/setup.sh --install, or meson install): nothing linked" >&2
    return 1
  fi
  if [[ -z $root && $EUID -ne 0 ]]; then
    echo "setup: --sendmail writes /usr/sbin and /usr/lib: run as root" >&2
    return 1
  fi
  for path in /usr/sbin/sendmail /usr/lib/sendmail; do
    if [[ -L $root$path && ( $(readlink "$root$path") == "$target" ||
                             $(readlink -f "$root$path") == $(readlink -f "$root$target") ) ]]; then
      echo "setup: $path already runs $target"
      continue
    fi
    # A package's file (not diverted away): "postfix: /usr/sbin/sendmail".
    owner=""
    if [[ -z $root && $(dpkg-divert --truename "$path" 2>/dev/null || echo "$path") == "$path" ]]; then
      owner=$(dpkg -S "$path" 2>/dev/null | grep -v '^diversion' | cut -d: -f1 | head -n1 || true)
    fi
    if [[ -n $owner ]]; then
      echo "setup: $path belongs to the package $owner: not changed. Either remove $owner" \
           "(apt-get remove $owner), or divert its file and run this again:"
      echo "         dpkg-divert --local --rename --divert $path.$owner --add $path" \
           "&& tools/setup.sh --sendmail"
      echo "       (undo: rm $path && dpkg-divert --local --rename --remove $path)"
      rc=1
      continue
    fi
    if [[ -e $root$path || -L $root$path ]]; then
      echo "setup: $path exists and is no package's ($(readlink "$root$path" 2>/dev/null || echo 'a file')):" \
           "not changed; move it away and run this again"
      rc=1
      continue
    fi
    mkdir -p "$(dirname "$root$path")"
    ln -s "$target" "$root$path"
    echo "setup: linked $path -> $target"
  done
  return $rc
}
if [[ "${1:-}" == --sendmail ]]; then
  link_sendmail
  exit
fi

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
