#!/usr/bin/env bash
# catalog.sh — the kernel driver on the whole scenario catalog, for every kernel tree available
# (tests/kernel/trees.sh; skipped without one), in each of the three ways the workload reaches
# the kernel (kcall=kernel: the tree's own callers; submit; callers; QINVAL_KERNEL_KCALLS
# narrows the list). Every scenario must give a verdict (exit 0 or
# 1 with a PASS or FAIL line, never a usage or internal error), and the verdicts the seed
# threads predict for kernels that carry the March 2026 walk fix must hold: smoke, the even
# batch and the submitter race pass; a silently dead link is a hard lockup (the kernel polls
# with interrupts off and has no deadline). Prints the verdict table.
# QINVAL_KERNEL_EXECUTIONS sets the budget per scenario (default 1000); QINVAL_KERNEL_SETS adds
# --set KEY=VALUE words to every run (the sanitizer build shortens the virtual-time bound, which
# only brings the 600-s hangs to their verdict sooner).
set -u
Q=$(realpath "${1:?usage: catalog.sh path/to/qinval scenario-dir}")
SC=$(realpath "${2:?usage: catalog.sh path/to/qinval scenario-dir}")
. "$(dirname "$0")/trees.sh"
need_trees
enter_work
fail=0
execs=${QINVAL_KERNEL_EXECUTIONS:-1000}

for t in "${KTREES[@]}"; do
  for kcall in ${QINVAL_KERNEL_KCALLS:-kernel submit callers}; do
    echo "== $t kcall=$kcall"
    for f in "$SC"/*.scn; do
        s=$(basename "$f" .scn)
        extra=()
        for kv in ${QINVAL_KERNEL_SETS:-}; do extra+=(--set "$kv"); done
        "$Q" check --driver kernel --scenario "$s" --set "ksrc=$t" --set "kcall=$kcall" --executions "$execs" \
            --no-minimise "${extra[@]}" >out.txt 2>err.txt
        rc=$?
        line=$(grep -E '^(PASS|FAIL)' out.txt | head -1)
        case "$rc:$line" in
        0:PASS*) v=pass ;;
        1:FAIL*) v=$(echo "$line" | awk '{print $2}') ;;
        *)
            echo "FAIL $s: exit $rc, no verdict: $(head -c 400 err.txt)"
            fail=1
            continue
            ;;
        esac
        printf '  %-18s %s\n' "$s" "$v"
        eval "v_${s//-/_}=$v"
    done
    for want in "smoke pass" "ite-even-batch pass" "ite-race pass" \
        "link-down-silent hard_lockup"; do
        set -- $want
        var="v_${1//-/_}"
        if [ "${!var:-missing}" != "$2" ]; then
            echo "FAIL $t kcall=$kcall / $1: got ${!var:-missing}, wanted $2"
            fail=1
        fi
    done
  done
done
[ $fail = 0 ] && echo "kernel catalog: OK"
exit $fail
