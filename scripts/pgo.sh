#!/usr/bin/env bash
# pgo.sh — build qinval with profile-guided optimisation, for long explorations and for the
# checker's throughput figures (bench/README.md). The checker's hot path is branchy (scheduler,
# platform points, the hardware model's queue engine, the event log) and PGO lays it out for
# the branches actually taken: about 1.3x the executions per second of the plain build.
#
# Three stages in one build directory (so the profile files match the objects by path):
#   1. build `qinval` instrumented (-fprofile-generate);
#   2. train: short seeded explorations of every built-in driver on `smoke` and a few failing
#      cells (hangs, a hard lockup, minimisation), the paths a real exploration takes;
#   3. rebuild everything with -fprofile-use, then check the result decides exactly as the
#      plain build does (scripts/fingerprint.sh) when one is given.
# Training never uses the step guard (a signal and a long jump out of an instrumented function
# would leave the profile inconsistent, which GCC rejects): no trained cell loops without
# platform points.
#
# usage: scripts/pgo.sh [BUILD_DIR [PLAIN_QINVAL]]   (default build-pgo; PLAIN_QINVAL: a
#        plain build's binary whose fingerprint the result must equal)
# GCC only (clang's profiles take another tool chain: llvm-profdata).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-pgo}
plain=${2:-}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$build"
build=$(cd "$build" && pwd)
profile=$build/pgo-profile

cc=${CC:-cc}
macros=$("$cc" -dM -E -x c /dev/null 2>/dev/null || true)
if ! grep -q '__GNUC__' <<<"$macros" || grep -q '__clang__' <<<"$macros"; then
    echo "pgo.sh: needs GCC ($cc is not); build without PGO: cmake -S . -B build" >&2
    exit 2
fi

configure() { # extra C flags
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=$1" >/dev/null
}

echo "== pgo 1/3: instrumented build in $build"
rm -rf "$profile"
configure "-fprofile-generate -fprofile-update=prefer-atomic -fprofile-dir=$profile"
cmake --build "$build" -j "$jobs" --target qinval >/dev/null

echo "== pgo 2/3: training"
q=$build/qinval
train() { # check arguments...; exit 1 (a violation) is an expected outcome
    local rc=0
    "$q" check --no-progress "$@" >/dev/null || rc=$?
    if [ $rc -gt 1 ]; then
        echo "pgo.sh: training run failed (exit $rc): qinval check $*" >&2
        exit 1
    fi
}
for d in legacy-odd eagain-any-ite step1-nowait qinval qinval-trusting; do
    train --driver "$d" --scenario smoke --executions 3000
done
train --driver eagain-any-ite --scenario ite-race
train --driver step1-nowait --scenario link-down-silent
train --driver qinval --scenario ite-race --executions 300
train --driver qinval --scenario link-flap --executions 300

echo "== pgo 3/3: optimised build"
configure "-fprofile-use -fprofile-dir=$profile -fprofile-partial-training -Wno-missing-profile"
cmake --build "$build" -j "$jobs" >/dev/null

if [ -n "$plain" ]; then
    a=$("$src/scripts/fingerprint.sh" "$plain")
    b=$("$src/scripts/fingerprint.sh" "$q")
    if [ "$a" != "$b" ]; then
        # Once more, line by line: a difference that stays is the PGO build's; one that goes
        # away is a run that did not repeat itself, which is reported, with the lines, either way.
        echo "pgo.sh: fingerprints differ ($a plain, $b PGO); comparing line by line" >&2
        "$src/scripts/fingerprint.sh" "$plain" --verbose >"$build/fingerprint-plain.txt"
        "$src/scripts/fingerprint.sh" "$q" --verbose >"$build/fingerprint-pgo.txt"
        if ! diff "$build/fingerprint-plain.txt" "$build/fingerprint-pgo.txt" >&2; then
            echo "pgo.sh: the PGO build decides differently from $plain" >&2
            exit 1
        fi
        echo "pgo.sh: WARNING: the second comparison agrees: one of the first runs did not" \
            "repeat itself (nondeterminism to investigate; the first hashes are above)" >&2
        b=$(tail -1 "$build/fingerprint-pgo.txt")
    fi
    echo "== pgo: same decisions as $plain (fingerprint $b)"
fi
echo "== pgo: $q"
