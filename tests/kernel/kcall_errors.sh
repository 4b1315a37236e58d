#!/usr/bin/env bash
# kcall_errors.sh — trees whose callers (kcall=kernel, the default) cannot be built: each is
# refused with one line naming the function or symbol that stopped them (exit 2), and the same
# tree still runs with kcall=submit and kcall=callers. Made from each kernel tree available
# (skipped without one) by editing a copy of its drivers/iommu/intel: a caller removed
# (pasid.c's intel_pasid_tear_down_entry renamed), a caller using a type the shim does not know
# (a struct member that no struct of the harness has), and a function defined in two files
# (domain_context_clear_one copied into pasid.c).
set -u
Q=$(realpath "${1:?usage: kcall_errors.sh path/to/qinval cache-dir}")
CACHE=$(realpath -m "${QINVAL_LKH_CACHE:-${2:?usage: kcall_errors.sh path/to/qinval cache-dir}}")
. "$(dirname "$0")/trees.sh"
need_trees
enter_work
fail=0

# run NAME TREE [--set ...]: exit status and stderr of a short check on smoke
run() {
    local tree=$1
    shift
    "$Q" check --driver kernel --scenario smoke --set "ksrc=$tree" --executions 5 "$@" >out.txt 2>err.txt
    echo $?
}
# refused WHAT TREE REGEX: kcall=kernel says REGEX in one line (exit 2); the lower modes run
refused() {
    local what=$1 tree=$2 re=$3
    local rc
    rc=$(run "$tree")
    if [ "$rc" != 2 ] || ! grep -Eq -- "$re" err.txt || [ "$(grep -vc '^qinval: extracting' err.txt)" != 1 ]; then
        echo "FAIL $what: exit $rc, stderr: $(cat err.txt)"
        fail=1
    fi
    for mode in submit callers; do
        rc=$(run "$tree" --set kcall=$mode)
        if [ "$rc" != 0 ]; then
            echo "FAIL $what, kcall=$mode: exit $rc, $(head -c 300 err.txt)"
            fail=1
        fi
    done
}

n=0
for t in "${KTREES[@]}"; do
    n=$((n + 1))
    # An unedited copy first: it must build with its callers (and extract the tarball).
    [ "$(run "$t")" = 0 ] || { echo "FAIL $t as shipped: $(cat err.txt)"; fail=1; continue; }
    src=$(tree_dir "$t" "$CACHE") || { echo "FAIL no extracted copy of $t in $CACHE"; fail=1; continue; }
    copy() { # name -> a fresh copy of the tree's intel directory
        local d=$work/$n-$1
        mkdir -p "$d/drivers/iommu/intel"
        cp "$src"/drivers/iommu/intel/*.[ch] "$d/drivers/iommu/intel/"
        echo "$d"
    }
    I=drivers/iommu/intel

    d=$(copy missing)
    sed -i 's/^void intel_pasid_tear_down_entry(/void intel_pasid_tear_down_entry_renamed(/' "$d/$I/pasid.c"
    refused "$t without intel_pasid_tear_down_entry" "$d" \
        "kcall=kernel \(the default\) cannot run the tree's own callers: function 'intel_pasid_tear_down_entry' not found"

    d=$(copy unknown-type)
    # the first statement of domain_context_clear_one's body reads a member no harness struct has
    sed -i '/^static void domain_context_clear_one(/,/^}/ s/^\tstruct intel_iommu \*iommu = info->iommu;/\tstruct intel_iommu *iommu = info->iommu; (void)info->frobnicator;/' "$d/$I/iommu.c"
    grep -q frobnicator "$d/$I/iommu.c" || { echo "FAIL $t: the edit for the unknown type did not apply"; fail=1; }
    refused "$t with a member the shim does not know" "$d" \
        "the callers do not compile: iommu.c:[0-9]+:[0-9]+: error: .*has no member named 'frobnicator'"

    d=$(copy twice)
    sed -n '/^static void domain_context_clear_one(/,/^}/p' "$d/$I/iommu.c" >>"$d/$I/pasid.c"
    refused "$t with domain_context_clear_one twice" "$d" \
        "function 'domain_context_clear_one' is defined twice: .*/(pasid.c:[0-9]+ and .*/iommu.c|iommu.c:[0-9]+ and .*/pasid.c):[0-9]+"
done
[ $fail = 0 ] && echo "kernel kcall errors: OK"
exit $fail
