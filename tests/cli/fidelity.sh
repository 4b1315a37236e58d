#!/usr/bin/env bash
# fidelity.sh — `qinval fidelity --against qemu` end to end: the JSON report's shape, every
# case counted once (agree + disagreeing + QEMU failures = cases), nothing unclassified; a
# model knob set away from QEMU's way (status_fault=drop: a status write above RAM is dropped
# where QEMU raises IQE) is found, shrunk to a few steps and classified open with the knob
# named; bad flags exit 2. Skipped (77) where QEMU or python3 is missing.
set -u
Q=${1:?usage: fidelity.sh path/to/qinval}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

command -v python3 >/dev/null || { echo "skipped: python3 not found"; exit 77; }
command -v "${QINVAL_QEMU:-qemu-system-x86_64}" >/dev/null ||
    { echo "skipped: qemu-system-x86_64 not found (install qemu-system-x86)"; exit 77; }

# bad usage: exit 2 with one line
for args in "--against xen" "--against qemu --cases 0" "--against qemu --cases x" \
    "--against qemu --bogus" "--cases 3" "--against qemu --set nosuch=1" \
    "--against qemu --format yaml" "--against qemu --jobs 0"; do
    # shellcheck disable=SC2086
    "$Q" fidelity $args >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <"$T/err")" != 1 ]; then
        echo "FAIL: 'fidelity $args' exited $rc (want 2, one line):"; cat "$T/err"; fail=1
    fi
done

"$Q" fidelity --against qemu --cases 300 --seed 5 --format json >"$T/run.json" 2>"$T/err"
rc=$?
if [ $rc != 0 ]; then
    echo "FAIL: fidelity --cases 300 exited $rc"; cat "$T/err"; head -c 3000 "$T/run.json"; fail=1
fi
python3 - "$T/run.json" <<'EOF' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("cases", "agree", "disagreements", "qemu_failures", "behaviours"):
    assert k in r, "missing " + k
assert r["cases"] == 300, r["cases"]
dis = sum(d["count"] for d in r["disagreements"])
qf = sum(f["count"] for f in r["qemu_failures"])
assert r["agree"] + dis + qf == r["cases"], (r["agree"], dis, qf)
assert r["agree"] > 0
for d in r["disagreements"]:
    for k in ("class", "rule", "section", "observable", "count", "sequence", "model", "qemu"):
        assert k in d, "disagreement without " + k
    assert d["class"] in ("model-bug", "qemu-deviation", "open"), d["class"] + " " + d["rule"]
    assert isinstance(d["sequence"], list) and all(isinstance(s, str) for s in d["sequence"])
    assert len(d["sequence"]) <= 16, d
for f in r["qemu_failures"]:
    assert f["message"] and f["sequence"], f
for t, b in r["behaviours"].items():
    assert b["cases"] >= b["agree"] >= 0, t
EOF

"$Q" fidelity --against qemu --cases 150 --seed 5 --set status_fault=drop --format json \
    >"$T/knob.json" 2>"$T/err"
rc=$?
[ $rc = 0 ] || { echo "FAIL: --set status_fault=drop exited $rc"; cat "$T/err"; fail=1; }
python3 - "$T/knob.json" <<'EOF' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
k = [d for d in r["disagreements"] if d.get("knob") == "status_fault"]
assert k, "status_fault=drop found no disagreement: %s" % [d["rule"] for d in r["disagreements"]]
d = k[0]
assert d["class"] == "open", d
assert len(d["sequence"]) <= 8, d["sequence"]
EOF

[ $fail = 0 ] && echo "ok: fidelity"
exit $fail
