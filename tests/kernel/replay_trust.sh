#!/usr/bin/env bash
# replay_trust.sh — a counterexample file is data: `qinval replay` never builds or loads a
# kernel tree that the file names. A file of --driver kernel replays only on a tree given on the
# command line (--ksrc) or in QINVAL_KSRC; the file's tree is shown, and when its recorded
# identity (a hash of the code) differs from the tree given, replay warns. Needs no kernel
# sources: the trees are synthetic (synthetic_tree.sh). "Not built" is checked on the harness
# cache: no new object, extracted source or generated file appears for the file's tree.
set -u
Q=$(realpath "${1:?usage: replay_trust.sh path/to/qinval}")
here=$(dirname "$(realpath "$0")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
export QINVAL_LKH_CACHE=$work/cache
unset QINVAL_KSRC
fail=0
. "$here/synthetic_tree.sh"
bad() {
    echo "FAIL $*"
    fail=1
}

ok=$(mktree fine)
"$Q" check --driver kernel --scenario smoke --set "ksrc=$ok" --set kcall=submit --save ce.json >out.txt 2>err.txt
[ $? = 1 ] && grep -q '^FAIL lost_invalidation' out.txt || bad "setup: $(head -1 out.txt) $(cat err.txt)"
grep -q '"ktree": "[0-9a-f]\{16\}"' ce.json || bad "the counterexample records no tree identity"

# A hostile copy: the same schedule, naming a tree of the sender's (here one that would build).
evil=$(mktree evil)
sed -i 's/claims success/a tree the sender chose/' "$evil/drivers/iommu/intel/dmar.c"
python3 - "$evil" <<'PY'
import json, sys
ce = json.load(open("ce.json"))
ce["sets"] = [s for s in ce["sets"] if not s.startswith("ksrc=")] + ["ksrc=" + sys.argv[1]]
json.dump(ce, open("hostile.json", "w"), indent=2)
PY
snapshot() { (cd "$work/cache" && ls -R) | grep -v '^gen-' | sort; }
snapshot >before.txt

# 1. No tree on the command line: refused, naming the file's tree, nothing built.
"$Q" replay hostile.json >out.txt 2>err.txt
rc=$?
[ $rc = 2 ] || bad "replay without --ksrc: exit $rc (want 2)"
grep -q "recorded with --driver kernel on the tree $evil; replay never builds a tree a file names: give it with --ksrc PATH or QINVAL_KSRC" err.txt ||
    bad "replay without --ksrc: stderr $(cat err.txt)"
[ "$(wc -l <err.txt)" = 1 ] || bad "replay without --ksrc: more than one line: $(cat err.txt)"
snapshot | cmp -s before.txt - || bad "replay without --ksrc built something: $(snapshot | diff before.txt -)"

# 2. The tree given with --ksrc is the one run; the file's tree is shown, never built.
"$Q" replay --ksrc "$ok" hostile.json >out.txt 2>err.txt
rc=$?
[ $rc = 1 ] && grep -q '^FAIL lost_invalidation' out.txt || bad "replay --ksrc: exit $rc, $(head -1 out.txt) $(cat err.txt)"
grep -q "kernel tree $ok (the file was recorded on $evil, identity " err.txt || bad "replay --ksrc: does not show both trees: $(cat err.txt)"
snapshot | cmp -s before.txt - || bad "replay --ksrc built something: $(snapshot | diff before.txt -)"
# Same code as recorded (the identity is of the code, not the path): no warning.
grep -q 'warning' err.txt && bad "replay on the recorded code warned: $(cat err.txt)"

# 3. QINVAL_KSRC does the same as --ksrc.
QINVAL_KSRC=$ok "$Q" replay hostile.json >out.txt 2>err.txt
[ $? = 1 ] || bad "replay with QINVAL_KSRC: $(cat err.txt)"
snapshot | cmp -s before.txt - || bad "replay with QINVAL_KSRC built something"

# 4. Other code than recorded: replayed, with a warning naming both identities.
"$Q" replay --ksrc "$evil" ce.json >out.txt 2>err.txt
grep -q "warning: $evil (identity [0-9a-f]*) is not the code the file was recorded on (identity [0-9a-f]*)" err.txt ||
    bad "replay on other code: no warning: $(cat err.txt)"

# 5. --ksrc with a counterexample of another driver is refused.
"$Q" check --driver legacy-odd --scenario ite-even-batch --save legacy.json >/dev/null 2>&1
"$Q" replay --ksrc "$ok" legacy.json >out.txt 2>err.txt
rc=$?
[ $rc = 2 ] && grep -q -- "--ksrc is only for a counterexample of --driver kernel" err.txt ||
    bad "--ksrc with legacy-odd: exit $rc, $(cat err.txt)"

[ $fail = 0 ] && echo "kernel replay trust: OK"
exit $fail
