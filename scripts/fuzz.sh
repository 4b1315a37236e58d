#!/usr/bin/env bash
# scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...] — make fuzz: configures the libFuzzer build
# with clang (QINVAL_FUZZ=ON) in BUILD_DIR, builds the targets of fuzz/, then for each target
# replays its stored corpus (fuzz/corpus/TARGET, -runs=0) and fuzzes it for SECONDS seconds
# with its dictionary (fuzz/TARGET.dict). New inputs go to BUILD_DIR/corpus/TARGET (the stored
# corpus stays small: copy an input there by hand when it is worth keeping), crashing inputs to
# BUILD_DIR/crashes/TARGET/. Fails (exit 1) when a target crashes. Prints each target's
# executions (libFuzzer's #N). FUZZ_SEED=N fixes libFuzzer's random seed (CI: a run that
# decides the same way each time; unset: a new seed each run, for long runs).
set -uo pipefail
cd "$(dirname "$0")/.."
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
echo "== configuring the libFuzzer build with $cc in $build/"
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQINVAL_FUZZ=ON >/dev/null || exit 2
echo "== building the fuzz targets"
cmake --build "$build" -j "${JOBS:-2}" --target fuzz_targets >"$build/fuzz-build.log" 2>&1 || {
    tail -30 "$build/fuzz-build.log"
    exit 2
}

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
    bin=$build/fuzz/fuzz_$t
    stored=fuzz/corpus/$t
    work=$build/corpus/$t
    crashes=$build/crashes/$t
    log=$build/fuzz-$t.log
    mkdir -p "$work" "$crashes"
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    echo "== fuzz_$t: replaying $stored"
    if ! "$bin" -runs=0 -artifact_prefix="$crashes/" "$stored" >"$log.replay" 2>&1; then
        tail -30 "$log.replay"
        echo "FAIL: fuzz_$t crashed on its stored corpus (input saved under $crashes/)"
        failed+=("$t")
        continue
    fi
    echo "== fuzz_$t: fuzzing for ${seconds}s"
    seed=()
    [ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "${seed[@]}" \
        -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$work" "$stored" \
        >"$log" 2>&1; then
        grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz property failed|.*runtime error)' "$log" | head -5
        grep -E 'Test unit written to' "$log" | tail -1
        echo "FAIL: fuzz_$t found a crash (log $log)"
        failed+=("$t")
        continue
    fi
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    echo "   $execs executions: $last"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "make fuzz: crashes in ${failed[*]} (inputs under $build/crashes/)" >&2
    exit 1
fi
echo "== make fuzz: no crash in ${targets[*]}"
