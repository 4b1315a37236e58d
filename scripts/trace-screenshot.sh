#!/usr/bin/env bash
# trace-screenshot.sh — the picture of the seed 001 counterexample in docs/img/: run the check
# with --trace, then draw the trace in Debian's Chromium with scripts/trace-view.html and save
# a PNG. A one-off (not part of CI): installs chromium through apt-get and playwright-core from
# the npm registry into a scratch directory if they are missing.
# Usage: scripts/trace-screenshot.sh [build/qinval] [docs/img/seed001-trace.png]
set -euo pipefail
cd "$(dirname "$0")/.."
Q=${1:-build/qinval}
out=${2:-docs/img/seed001-trace.png}
command -v chromium >/dev/null || scripts/deps.sh chromium
command -v node >/dev/null || scripts/deps.sh nodejs npm
pw=${PLAYWRIGHT_DIR:-/tmp/qinval-playwright}
if [ ! -d "$pw/node_modules/playwright-core" ]; then
    mkdir -p "$pw"
    (cd "$pw" && npm init -y >/dev/null && npm install --no-audit --no-fund playwright-core >/dev/null)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$OLDPWD/$Q" check --driver legacy-odd --scenario ite-even-batch --trace seed001.json >/dev/null) || [ $? = 1 ]
mkdir -p "$(dirname "$out")"
# Three windows: the whole run (the 10 s with interrupts off), the submission, the ITE.
windows='[{"title":"whole run","range":[0,10000001]},
          {"title":"the batch is queued, the device-TLB invalidation is dropped","range":[0.6,1.5]},
          {"title":"one second later: ITE, the wait is aborted, the walk starts","range":[1000000.7,1000001.4]}]'
NODE_PATH="$pw/node_modules" node scripts/trace-screenshot.js "$work/seed001.json" "$out" "$(command -v chromium)" "$windows"
echo "wrote $out"
