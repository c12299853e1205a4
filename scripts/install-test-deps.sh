#!/usr/bin/env bash
# Installs the Debian packages hbd's test suite runs for real: BIND's named, nsupdate and dig,
# aiosmtpd as an SMTP server that is not the one the unit tests embed, Chromium for the dashboard,
# promtool for the alert rules, the shells and tools the shell sender runs on, and PostgreSQL.
# Idempotent: does nothing when they are already there. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || missing+=(bind9)
command -v nsupdate >/dev/null 2>&1 && command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
# Debian's interpreter, not whichever python3 is first on PATH: the package installs only for it,
# and a pyenv or venv python3 would never see it and have us reinstall on every run.
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
# The dashboard tests drive Debian's Chromium at /usr/bin/chromium; playwright never downloads a browser.
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
# The push tests ping hbd with the real curl, as the scripts that use it do.
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The shipped Prometheus alert rules are checked and unit-tested with the real promtool.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# The shell sender runs under dash, bash and busybox sh, sending with socat, nc or bash's /dev/udp,
# signing with openssl.
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
command -v dash >/dev/null 2>&1 || missing+=(dash)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The PostgreSQL store and cluster tests start their own server from Debian's binaries.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "hbd tests need ${missing[*]}: run this script as root, or install them with apt-get" >&2
  exit 1
fi
echo "installing ${missing[*]} for the test suite" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
