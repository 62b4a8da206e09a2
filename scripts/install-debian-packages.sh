#!/usr/bin/env bash
# Installs the Debian packages seb needs, only those missing: gpg, zstd and tar to run it, g++, make and
# python3 to build its zstd binding in npm ci; with --test,
# also what the tests start or call (OpenSSH server, Ceph radosgw, rclone, Dovecot, mbsync, tmux, jq and
# openssl for the by-hand authenticity checks; listed in
# .ci/apt-packages).
# Uses sudo when not run as root. Node.js 20 or newer must already be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(gnupg zstd tar)
# node-gyp builds the zstd binding (zstd-napi) during npm ci: a C++ compiler, make and python3.
packages+=(g++ make python3)
if [ "${1:-}" = "--test" ]; then
  packages+=(tmux)
  while read -r p; do [ -n "$p" ] && [ "${p:0:1}" != "#" ] && packages+=("$p"); done < .ci/apt-packages
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
