# trees.sh — sourced by the kernel-driver tests: the kernel trees to test against, in KTREES.
# QINVAL_TEST_KSRC (paths separated by ':') if set, else Debian's linux-source tarballs that
# are installed. Tests exit 77 (CTest: skipped) when there is none.
KTREES=()
if [ -n "${QINVAL_TEST_KSRC:-}" ]; then
    IFS=: read -r -a KTREES <<<"$QINVAL_TEST_KSRC"
else
    for t in /usr/src/linux-source-6.1.tar.xz /usr/src/linux-source-6.12.tar.xz; do
        [ -f "$t" ] && KTREES+=("$t")
    done
fi
need_trees() {
    if [ ${#KTREES[@]} -eq 0 ]; then
        echo "SKIP: no kernel sources (install linux-source-6.1 / linux-source-6.12, or set QINVAL_TEST_KSRC)"
        exit 77
    fi
}
# Tests that apply a patch need patch or git; skipped (exit 77) without either.
need_patch_tool() {
    if ! command -v patch >/dev/null && ! command -v git >/dev/null; then
        echo "SKIP: neither patch nor git to apply a patch with"
        exit 77
    fi
}
# The directory holding drivers/iommu/intel/{dmar.c,iommu.h} of tree $1: the tree itself, or
# for a tarball the copy the kernel driver extracted into cache $2 (run a check on it first).
tree_dir() {
    if [ -d "$1" ]; then
        echo "$1"
        return 0
    fi
    local real d
    real=$(realpath "$1")
    for d in $(ls -td "$2"/src-*/ 2>/dev/null); do
        if [ "$(cat "$d/SOURCE" 2>/dev/null)" = "$real" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}
# Run in a scratch directory ($work), removed on exit.
enter_work() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cd "$work" || exit 2
}
# kernel_verdict ARGS...: `$Q check --driver kernel --no-minimise ARGS` into out.txt and
# err.txt; prints pass, the violation's name, or error(EXIT): the start of stderr.
kernel_verdict() {
    "$Q" check --driver kernel --no-minimise "$@" >out.txt 2>err.txt
    local rc=$?
    case "$rc:$(head -1 out.txt)" in
    0:PASS*) echo pass ;;
    1:FAIL*) head -1 out.txt | awk '{print $2}' ;;
    *) echo "error($rc): $(head -c 300 err.txt)" ;;
    esac
}
# patched_tree TREE DEST PATCH: DEST holds a copy of TREE's drivers/iommu/intel (as extracted
# into cache $CACHE) with PATCH applied (patch -p1, else git apply); says why and fails if not.
patched_tree() {
    local src
    src=$(tree_dir "$1" "$CACHE") || { echo "no extracted copy of $1 in $CACHE"; return 1; }
    mkdir -p "$2/drivers/iommu/intel"
    cp "$src"/drivers/iommu/intel/*.[ch] "$2/drivers/iommu/intel/"
    if command -v patch >/dev/null; then
        (cd "$2" && patch -p1 <"$3") >"$2.log" 2>&1
    else
        (cd "$2" && git apply "$3") >"$2.log" 2>&1
    fi || { echo "the patch does not apply to $1: $(cat "$2.log")"; return 1; }
}
