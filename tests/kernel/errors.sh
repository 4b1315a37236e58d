#!/usr/bin/env bash
# errors.sh — the kernel driver's input errors, each one line and exit 2, and the harness on a
# tiny synthetic "kernel tree" written here (needs no kernel sources): a tree whose
# qi_submit_sync returns success without queuing anything builds and runs, and the checker
# calls it a lost invalidation (the verdict comes from the code in the tree); a tree missing a
# function, calling something nobody provides, or not compiling is refused with a message
# naming the function or symbol.
set -u
Q=$(realpath "${1:?usage: errors.sh path/to/qinval}")
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
export QINVAL_LKH_CACHE=$work/cache
unset QINVAL_KSRC
fail=0

# expect_err "what" regex command...: exit 2 and one stderr line matching regex
expect_err() {
    local what=$1 re=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local rc=$?
    if [ $rc != 2 ] || ! grep -Eq -- "$re" err.txt || [ "$(grep -vc '^qinval: extracting' err.txt)" != 1 ]; then
        echo "FAIL $what: exit $rc, stderr: $(cat err.txt)"
        fail=1
    fi
}

. "$here/synthetic_tree.sh"

# No tree, a tree with another driver, paths that are not trees.
expect_err "no ksrc" "needs a Linux source tree: --set ksrc=PATH .*QINVAL_KSRC" \
    "$Q" check --driver kernel --scenario smoke
expect_err "ksrc with another driver" "ksrc is only for --driver kernel" \
    "$Q" check --driver legacy-odd --scenario smoke --set ksrc=/usr/src
expect_err "kcall with another driver" "kcall is only for --driver kernel" \
    "$Q" check --driver legacy-odd --scenario smoke --set kcall=callers
expect_err "bad kcall" "expected kcall=kernel, kcall=submit or kcall=callers" \
    "$Q" check --driver kernel --scenario smoke --set kcall=sometimes --set ksrc=/usr/src
expect_err "missing path" "kernel tree /nonexistent/linux: No such file" \
    "$Q" check --driver kernel --scenario smoke --set ksrc=/nonexistent/linux
mkdir -p empty
expect_err "empty dir" "kernel tree .*/empty: no readable drivers/iommu/intel/iommu.h" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$work/empty"
mkdir -p notkernel/a && echo hello >notkernel/a/readme && tar -czf notkernel.tar.gz notkernel
expect_err "tarball without dmar.c" "kernel source .*notkernel.tar.gz: no drivers/iommu/intel/iommu.h in it" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$work/notkernel.tar.gz"
expect_err "matrix without a tree" "kernel driver needs a kernel tree: QINVAL_KSRC" \
    "$Q" matrix --driver kernel

# Trees the harness cannot handle: the message names the function or symbol.
expect_err "missing function" "function 'qi_check_fault' not found in .*dmar.c" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$(mktree no-check)"
expect_err "unknown callee" "cannot provide 'frobnicate' \(called by qi_check_fault, .*dmar.c:2\)" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$(mktree calls-unknown)"
expect_err "compile error" "does not compile against it: .*NOT_DECLARED_ANYWHERE.* undeclared" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$(mktree no-compile)"

# The synthetic tree that builds: its submit claims success for work never queued.
ok=$(mktree fine)
"$Q" check --driver kernel --scenario smoke --set kcall=submit --set "ksrc=$ok" >out.txt 2>err.txt
rc=$?
if [ $rc != 1 ] || ! grep -q '^FAIL lost_invalidation  kernel / smoke' out.txt; then
    echo "FAIL synthetic tree: exit $rc, $(head -1 out.txt) $(cat err.txt)"
    fail=1
fi
# The synthetic tree has no callers of its own (no pasid.c, iommu.c): kcall=kernel, the default,
# says what stopped them, and the lower modes (above, kcall=submit) still run.
expect_err "kcall=kernel without the callers" "kcall=kernel \(the default\) cannot run the tree's own callers: no readable drivers/iommu/intel/pasid.h in the tree; kcall=submit and kcall=callers still work" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$ok"
# The synthetic tree has no qi_flush_iotlb / qi_flush_dev_iotlb to go through.
expect_err "kcall=callers without callers" "kcall=callers needs qi_flush_iotlb and qi_flush_dev_iotlb" \
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$ok" --set kcall=callers
# QINVAL_KSRC works as well as --set, and a second run uses the cached object.
ls "$work"/cache/kernel-*.so >before.txt 2>/dev/null
QINVAL_KSRC=$ok "$Q" check --driver kernel --scenario smoke --set kcall=submit >out.txt 2>err.txt
rc=$?
ls "$work"/cache/kernel-*.so >after.txt 2>/dev/null
if [ $rc != 1 ] || ! grep -q '^FAIL lost_invalidation' out.txt || ! cmp -s before.txt after.txt; then
    echo "FAIL QINVAL_KSRC / cache: exit $rc, $(head -1 out.txt); objects before/after differ: $(cat before.txt after.txt)"
    fail=1
fi
# Editing the tree rebuilds (the cache is keyed by what goes into the object).
sed -i 's/claims success/still claims success/' "$ok/drivers/iommu/intel/dmar.c"
"$Q" check --driver kernel --scenario smoke --set kcall=submit --set "ksrc=$ok" >out.txt 2>err.txt
if [ "$(ls "$work"/cache/kernel-*.so | wc -l)" != $(($(wc -l <before.txt) + 1)) ]; then
    echo "FAIL an edited tree did not give a new object"
    fail=1
fi
# The saved counterexample replays on the tree given again (tests/kernel/replay_trust.sh has
# the file that names a tree of its own).
ce=$(sed -n 's/^replay: qinval replay //p' out.txt)
[ -n "$ce" ] && [ -f "$ce" ] || { echo "FAIL the edited tree's run names no saved file: '$ce'"; fail=1; }
"$Q" replay --ksrc "$ok" "$ce" >out.txt 2>err.txt
rc=$?
if [ $rc != 1 ] || ! grep -q '^FAIL lost_invalidation' out.txt; then
    echo "FAIL replay: exit $rc, $(head -1 out.txt) $(cat err.txt)"
    fail=1
fi
"$Q" list drivers | grep -q '^kernel ' || {
    echo "FAIL list drivers has no kernel"
    fail=1
}
[ $fail = 0 ] && echo "kernel errors: OK"
exit $fail
