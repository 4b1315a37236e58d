#!/usr/bin/env bash
# scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...] — make fuzz: configures the libFuzzer build
# with clang (QINVAL_FUZZ=ON) in BUILD_DIR, builds the targets of fuzz/, then for each target
# replays its stored corpus (fuzz/corpus/TARGET, -runs=0) and fuzzes it for SECONDS seconds
# with its dictionary (fuzz/TARGET.dict). New inputs go to BUILD_DIR/corpus/TARGET (the stored
# corpus stays small: copy an input there by hand when it is worth keeping), crashing inputs to
# BUILD_DIR/crashes/TARGET/. Fails (exit 1) when a target crashes. Prints one result line per
# target: executions (libFuzzer's stat::number_of_executed_units), wall and CPU seconds,
# coverage, crashes. FUZZ_SEED=N fixes libFuzzer's random seed (CI: a run that decides the same
# way each time; unset: a new seed each run, for long runs). FUZZ_JOBS=N runs N targets at
# once with GNU parallel (long runs: `make fuzz FUZZ_SECONDS=3600 FUZZ_JOBS=2`); the result
# lines are also written to BUILD_DIR/fuzz-summary.txt.
set -uo pipefail
self=$(realpath "$0") # called again for each target (--one), from the top directory
cd "$(dirname "$0")/.."

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# fuzz_one BUILD SECONDS TARGET: replay the stored corpus, fuzz, print the result line.
# Exit 0 clean, 1 crash.
fuzz_one() {
    local build=$1 seconds=$2 t=$3
    local bin=$build/fuzz/fuzz_$t stored=fuzz/corpus/$t work=$build/corpus/$t
    local crashes=$build/crashes/$t log=$build/fuzz-$t.log
    mkdir -p "$work" "$crashes"
    rm -f "$log.time"
    local dict=() seed=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    [ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
    if ! "$bin" -runs=0 -artifact_prefix="$crashes/" "$stored" >"$log.replay" 2>&1; then
        tail -30 "$log.replay"
        echo "FAIL: fuzz_$t crashed on its stored corpus (input saved under $crashes/)"
        return 1
    fi
    local rc=0 t0
    t0=$(date +%s)
    # /usr/bin/time (Debian package time) gives the CPU seconds: with several targets on
    # few cores, wall time alone overstates how long each one ran.
    local timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -o "$log.time" -f "%U %S")
    "${timer[@]}" "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        "${seed[@]}" -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$work" \
        "$stored" >"$log" 2>&1 || rc=1
    local wall=$(($(date +%s) - t0)) cpu="?"
    [ -s "$log.time" ] && cpu=$(tail -1 "$log.time" | awk '{printf "%d", $1 + $2}')
    local execs cov ncrash
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    ncrash=$(grep -o 'Test unit written to .*' "$log" | sort -u | wc -l)
    if [ $rc -ne 0 ]; then
        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz property failed|.*runtime error)' "$log" | head -5
        grep -E 'Test unit written to' "$log" | tail -1
        echo "FAIL: fuzz_$t found a crash (log $log)"
    fi
    echo "fuzz_$t: ${execs:-0} executions, ${wall}s wall, ${cpu}s cpu, cov ${cov:-?}," \
        "$ncrash crashes"
    return $rc
}

if [ "${1:-}" = "--one" ]; then
    shift
    fuzz_one "$@"
    rc=$?
    echo $rc >"$1/fuzz-$3.rc"
    exit $rc
fi

build=${1:-build-fuzz}
seconds=${2:-60}
shift 2 || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(scenario ce vtd hw extract)

cc=${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$cc" ]; then
    echo "make fuzz: needs clang (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 2
fi
# One make fuzz per build directory: a second would rebuild the targets, and rewrite the logs
# and the summary, under the first one's feet.
mkdir -p "$build"
exec 9>"$build/.fuzz.lock"
if ! flock -n 9; then
    echo "make fuzz: another make fuzz is running in $build/ (use another BUILD_FUZZ)" >&2
    exit 2
fi
echo "== configuring the libFuzzer build with $cc in $build/"
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQINVAL_FUZZ=ON >/dev/null || exit 2
echo "== building the fuzz targets"
cmake --build "$build" -j "${JOBS:-2}" --target fuzz_targets >"$build/fuzz-build.log" 2>&1 || {
    tail -30 "$build/fuzz-build.log"
    exit 2
}

jobs=${FUZZ_JOBS:-1}
summary=$build/fuzz-summary.txt
echo "== fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
if [ "$jobs" -gt 1 ]; then
    command -v parallel >/dev/null || {
        echo "make fuzz: FUZZ_JOBS=$jobs needs GNU parallel (apt-get install parallel)" >&2
        exit 2
    }
    parallel --will-cite -j "$jobs" --line-buffer "$self" --one "$build" "$seconds" ::: \
        "${targets[@]}" | tee "$summary.tmp"
else
    for t in "${targets[@]}"; do
        echo "== fuzz_$t: stored corpus, then ${seconds}s"
        "$self" --one "$build" "$seconds" "$t"
    done | tee "$summary.tmp"
fi
grep -E '^fuzz_[a-z]+: ' "$summary.tmp" >"$summary"
rm -f "$summary.tmp"
failed=()
for t in "${targets[@]}"; do
    [ "$(cat "$build/fuzz-$t.rc" 2>/dev/null)" = 0 ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "make fuzz: crashes in ${failed[*]} (inputs under $build/crashes/)" >&2
    exit 1
fi
echo "== make fuzz: no crash in ${targets[*]}"
