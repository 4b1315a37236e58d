#!/usr/bin/env bash
# scripts/deps.sh — make sure the build and test tools qinval needs are on this machine.
# Checks each tool or header; installs what is missing with apt-get (as root, or through sudo).
# Usage: scripts/deps.sh [extra-debian-package ...]
set -euo pipefail

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { [ -e "$1" ] || missing+=("$2"); }

need_cmd cmake cmake
need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_file /usr/include/cmocka.h libcmocka-dev
need_file /usr/include/elfutils/libdw.h libdw-dev # failure signatures name driver functions
need_file /usr/include/jansson.h libjansson-dev # the JSON files: read (src/cli/json.c), strings written
need_cmd python3 python3 # the CLI tests read JSON results with it
need_cmd groff groff-base # the install test renders the man page
need_cmd qemu-system-x86_64 qemu-system-x86 # QEMU's intel-iommu: `qinval fidelity`, the engine on QEMU
# Installed, not only known: `dpkg -s` also succeeds for a package removed with its
# configuration files left ("deinstall ok config-files").
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }
for pkg in "$@"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all build and test dependencies present"
    exit 0
fi

echo "deps: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "deps: done"
