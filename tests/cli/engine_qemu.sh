#!/usr/bin/env bash
# engine_qemu.sh — `qinval engine-run --hw qemu`: the engine's workload on QEMU's intel-iommu
# (qtest) with several submitters and enough rounds to wrap the queue many times, and on the
# hardware model. Every call must return what the same call returns on the model, the
# malformed call QI_ERR_MALFORMED at its index with the rest done, every other call QI_OK,
# and the queue must wrap. Also one submitter alone (nobody else writes the tail after the
# IQE repair), and the model alone with QEMU's resume-on-tail behaviour. Bad flags: exit 2
# with one line. Without a usable QEMU: exit 77 (skipped) with the reason.
set -u
Q=$(realpath "${1:?usage: engine_qemu.sh path/to/qinval}")
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

# ---- usage errors: exit 2, one clear line ----
usage() { # expected-substring args...
    local want=$1
    shift
    "$Q" engine-run "$@" >out 2>err
    local rc=$?
    if [ $rc != 2 ] || [ "$(wc -l <err)" != 1 ] || ! grep -q -- "$want" err || [ -s out ]; then
        echo "FAIL: engine-run $* -> exit $rc, stderr: $(cat err)"
        fail=1
    fi
}
usage "--hw qemu or --hw model is required"
usage "--hw needs qemu or model" --hw kvm
usage "--threads needs a number from 1 to 16" --hw model --threads 0
usage "--threads needs a number from 1 to 16" --hw model --threads 17
usage "--rounds needs a number" --hw model --rounds x
usage "--format needs text or json" --hw model --format xml
usage "unknown option '--bogus'" --hw model --bogus

# ---- the model alone, also with QEMU's resume after an IQE ----
"$Q" engine-run --hw model --threads 3 --rounds 40 >out 2>&1 ||
    { echo "FAIL: engine-run --hw model: $(cat out)"; fail=1; }
"$Q" engine-run --hw model --threads 3 --rounds 40 --model-resume-on-tail >out 2>&1 ||
    { echo "FAIL: engine-run --hw model --model-resume-on-tail: $(cat out)"; fail=1; }

# ---- QEMU ----
command -v python3 >/dev/null || { echo "skipped: python3 not found"; exit 77; }
QEMU=${QINVAL_QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || { echo "skipped: $QEMU not found on PATH"; exit 77; }

check() { # threads rounds min-wraps
    "$Q" engine-run --hw qemu --threads "$1" --rounds "$2" --format json >run.json 2>err
    local rc=$?
    if grep -q "QEMU unavailable" err; then
        echo "skipped: $(cat err)"
        exit 77
    fi
    python3 - "$1" "$2" "$3" "$rc" <<'PY' || fail=1
import json, sys
threads, rounds, min_wraps, rc = (int(a) for a in sys.argv[1:])
def die(msg):
    print("FAIL: engine-run --hw qemu --threads %d --rounds %d: %s" % (threads, rounds, msg))
    sys.exit(1)
try:
    doc = json.load(open("run.json"))
except Exception as e:
    die("no JSON (exit %d): %s; stderr: %s" % (rc, e, open("err").read().strip()))
runs = {r["hw"]: r for r in doc["runs"]}
if set(runs) != {"qemu", "model"}:
    die("runs %s" % sorted(runs))
bad = doc["malformed"]
n = threads * rounds * doc["calls_per_round"]
for hw, r in runs.items():
    if not r["complete"] or len(r["results"]) != n or r["calls"] != n:
        die("%s: incomplete (%s), %d results" % (hw, r["why"], len(r["results"])))
    for c in r["results"]:
        key = (c["thread"], c["round"], c["call"])
        if key == (bad["thread"], bad["round"], bad["call"]):
            if c["status"] != "QI_ERR_MALFORMED" or c["index"] != bad["index"] or not c["others_done"]:
                die("%s: the malformed call returned %s" % (hw, c))
        elif c["status"] != "QI_OK":
            die("%s: call %s returned %s" % (hw, key, c))
    if r["iqe"] != 1:
        die("%s: %d IQEs" % (hw, r["iqe"]))
q, m = runs["qemu"], runs["model"]
fields = ("status", "index", "others_done", "pending", "retries")
diff = [(a, b) for a, b in zip(q["results"], m["results"])
        if any(a[f] != b[f] for f in fields) or (a["thread"], a["round"], a["call"]) != (b["thread"], b["round"], b["call"])]
if diff or doc["mismatches"] != 0 or doc["unexpected"] != 0:
    die("%d calls differ from the model, e.g. %s" % (len(diff), diff[:1]))
if q["wraps"] < min_wraps:
    die("the queue wrapped %d times, wanted at least %d" % (q["wraps"], min_wraps))
if q["requests"] <= 0 or q["deadlines"] != 0:
    die("requests %d, deadlines %d" % (q["requests"], q["deadlines"]))
if rc != 0:
    die("exit %d with every call matching" % rc)
PY
}
check 3 150 10
check 1 60 1
exit $fail
