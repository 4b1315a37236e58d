#!/usr/bin/env bash
# fuzz/replay.sh BINDIR CORPUS TARGET... — the CTest test fuzz_libfuzzer of a normal build:
# replays each target's stored corpus (CORPUS/TARGET/) with its libFuzzer binary
# (BINDIR/fuzz_TARGET, built by make fuzz), -runs=0. Exit 77 (skipped) with the reason when
# clang's libFuzzer is not installed or make fuzz has not built the targets.
set -uo pipefail
bindir=$1 corpus=$2
shift 2
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
    echo "SKIP: clang is not installed (libFuzzer comes with clang: make fuzz installs it)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$tmp/t.c"
if ! "$cc" -fsanitize=fuzzer "$tmp/t.c" -o "$tmp/t" 2>/dev/null; then
    echo "SKIP: $cc cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"
    exit 77
fi
for t in "$@"; do
    if [ ! -x "$bindir/fuzz_$t" ]; then
        echo "SKIP: $bindir/fuzz_$t not built (make fuzz builds the libFuzzer targets)"
        exit 77
    fi
done
for t in "$@"; do
    echo "== fuzz_$t: replaying $corpus/$t"
    if ! "$bindir/fuzz_$t" -runs=0 -artifact_prefix="$tmp/" "$corpus/$t" 2>"$tmp/$t.log"; then
        tail -40 "$tmp/$t.log"
        echo "FAIL: fuzz_$t crashed on its stored corpus"
        exit 1
    fi
    grep -E '^#[0-9]+' "$tmp/$t.log" | tail -1
done
