#!/usr/bin/env bash
# signature.sh — a failure's signature in the command's outputs: the text counterexample's
# `signature:` line, the JSON counterexample's "signature", "where" and "trigger" (equal to the
# text's), kept by `merge`, a minimised counterexample with the signature of the run found
# (--no-minimise), and results written before signatures existed still load (replay, merge),
# while a result with only part of a signature is refused.
set -u
Q=$(realpath "${1:?usage: signature.sh path/to/qinval}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
fail=0
bad() { echo "FAIL $*"; fail=1; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

want='hard_lockup: spins in abort_every_other_slot (no platform point), after ITE'
"$Q" check --driver legacy-odd --scenario ite-even-batch --no-progress >text.txt 2>/dev/null
[ "$(sed -n 's/^signature: //p' text.txt)" = "$want" ] || bad "text signature: $(grep signature text.txt)"
grep -A1 '^why: ' text.txt | tail -1 | grep -q '^signature: ' || bad "signature: is not right after why:"

"$Q" check --driver legacy-odd --scenario ite-even-batch --format json >r.json 2>/dev/null
[ "$(json r.json 'd["counterexample"]["signature"]')" = "$want" ] || bad "JSON signature"
[ "$(json r.json 'd["counterexample"]["where"]')" = "spins in abort_every_other_slot (no platform point)" ] ||
    bad "JSON where: $(json r.json 'd["counterexample"]["where"]')"
[ "$(json r.json 'd["counterexample"]["trigger"]')" = "ITE" ] || bad "JSON trigger"

# Minimised or not, the same failure.
"$Q" check --driver step1-nowait --scenario link-down-silent --format json >m.json 2>/dev/null
"$Q" check --driver step1-nowait --scenario link-down-silent --no-minimise --format json >n.json 2>/dev/null
[ "$(json m.json 'd["counterexample"]["signature"]')" = "$(json n.json 'd["counterexample"]["signature"]')" ] ||
    bad "minimisation changed the signature"
[ "$(json m.json 'd["counterexample"]["trigger"]')" = "unanswered device-TLB invalidation" ] ||
    bad "step1-nowait trigger: $(json m.json 'd["counterexample"]["trigger"]')"

# merge keeps it
for i in 0 1; do
    "$Q" check --driver legacy-odd --scenario ite-even-batch --shard $i/2 --format json >s$i.json 2>/dev/null
done
"$Q" merge --format json s0.json s1.json >merged.json
[ "$(json merged.json 'd["counterexample"]["signature"]')" = "$want" ] || bad "merge dropped the signature"

# An older result (no signature members) still replays and merges; a partial one is refused.
python3 - r.json old.json partial.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("signature", "where", "trigger"):
    del d["counterexample"][k]
json.dump(d, open(sys.argv[2], "w"), indent=2)
d["counterexample"]["signature"] = "x"
json.dump(d, open(sys.argv[3], "w"), indent=2)
PY
"$Q" replay old.json >old.txt 2>old.err
[ $? = 1 ] || bad "replay of a result without a signature: $(head -c 200 old.err)"
[ "$(sed -n 's/^signature: //p' old.txt)" = "$want" ] || bad "replay of an old result prints no signature"
"$Q" replay partial.json >/dev/null 2>partial.err
[ $? = 2 ] || bad "a result with a signature but no where/trigger was accepted"
grep -q '"signature"' partial.err || bad "partial signature message: $(cat partial.err)"

[ $fail = 0 ] && echo "signature: OK"
exit $fail
