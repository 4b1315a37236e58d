#!/usr/bin/env bash
# scale_slurm.sh — shards run as a real Slurm job array, merged with `qinval merge`, give the
# result one process gives (the cases and the comparison: tests/scale/common.sh). The cluster is
# scripts/slurm-local.sh's one node on loopback, in a temporary directory, stopped on exit.
# Each array task runs shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; the test checks that
# every task ran as an array task of that job on the node (its own output file, named by Slurm
# from %a, and the environment it saw), that scontrol shows every task COMPLETED with exit code
# 0, that a merge job submitted with --dependency=afterok on the array ran after it and wrote
# what merge writes, and the merged result. If Slurm cannot be installed or started here, the test prints
# `SKIPPED: <reason>` and exits 77 (CTest: skipped); it never passes without running the array.
set -u
Q=$(realpath "${1:?usage: scale_slurm.sh path/to/qinval}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
cluster=$(mktemp -d) # short: the MUNGE socket lives in it
cd "$work" || exit 2
trap '"$ROOT/scripts/slurm-local.sh" stop "$cluster" >/dev/null 2>&1; rm -rf "$work" "$cluster"' EXIT
start=$(date +%s.%N)
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)"; }
WAIT=${QINVAL_SLURM_WAIT:-120} # seconds an array may take to finish

if ! "$ROOT/scripts/slurm-local.sh" start "$cluster" >start.log 2>&1; then
    echo "SKIPPED: Slurm could not be started here: $(grep -v '^    ' start.log | tail -1)"
    sed 's/^/  /' start.log
    exit 77
fi
echo "slurm started in $(elapsed) s: $(tail -1 start.log)"
# shellcheck source=/dev/null
. "$cluster/env"

# shellcheck source=../scale/common.sh
. "$ROOT/tests/scale/common.sh"

# The array task's script: shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT of the qinval
# command given as arguments; writes NAME.I.json, and NAME.I.env with what Slurm told it.
cat >task.sh <<'EOF'
#!/bin/sh
name=$1
shift
echo "$SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $SLURM_JOB_ID $SLURMD_NODENAME" >"$name.$SLURM_ARRAY_TASK_ID.env"
"$@" --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --format json >"$name.$SLURM_ARRAY_TASK_ID.json"
test $? -le 1 # a violation (1) is a result; only 2 and above fail the task
EOF
chmod +x task.sh

run_shards() { # NAME N ARGS...
    local name=$1 n=$2 job t ok=0 i
    shift 2
    job=$(sbatch --parsable --job-name="qinval-$name" --array="0-$((n - 1))" \
        --output="$name.%a.out" --chdir="$work" ./task.sh "$name" "$Q" "$@" 2>sbatch.err) ||
        { echo "sbatch failed: $(cat sbatch.err)"; return 1; }
    job=${job%%;*}
    # The merge as docs/checker.md shows it: a job that starts once every task has succeeded.
    local files=() mjob
    for ((i = 0; i < n; i++)); do files+=("$name.$i.json"); done
    mjob=$(sbatch --parsable --job-name="qinval-$name-merge" --dependency="afterok:$job" \
        --output="$name.merge.out" --chdir="$work" \
        --wrap "'$Q' merge --format json ${files[*]} >$name.slurm-merged.json" 2>sbatch.err) ||
        { echo "sbatch of the merge job failed: $(cat sbatch.err)"; return 1; }
    mjob=${mjob%%;*}
    echo "$name: submitted array job $job ($n tasks), then merge job $mjob (afterok:$job)"
    # squeue lists a job until it has ended, an array until its last task has (bounded wait).
    for ((t = 0; t < WAIT * 10; t++)); do
        [ -z "$(squeue -h -j "$job,$mjob" -o %i 2>/dev/null)" ] && break
        sleep 0.1
    done
    if [ -n "$(squeue -h -j "$job,$mjob" -o %i 2>/dev/null)" ]; then
        echo "jobs $job, $mjob still queued or running after $WAIT s:"
        squeue -j "$job,$mjob"
        return 1
    fi
    # Every task: COMPLETED with exit code 0 on the node (scontrol keeps finished jobs for
    # MinJobAge; there is no accounting, so no sacct).
    scontrol show job "$job" >"$name.scontrol" 2>&1
    python3 - "$name.scontrol" "$job" "$n" <<'PY' || ok=1
import re, sys
text, job, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
tasks = {}
for rec in re.split(r"\n(?=JobId=)", text.strip()):
    f = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", rec))
    if f.get("ArrayJobId") != job:
        continue
    tasks[f.get("ArrayTaskId")] = (f.get("JobState"), f.get("ExitCode"), f.get("NodeList"))
want = {str(i) for i in range(n)}
if set(tasks) != want:
    print("scontrol shows array tasks %s, wanted %s" % (sorted(tasks), sorted(want)))
    sys.exit(1)
bad = {i: t for i, t in tasks.items() if t != ("COMPLETED", "0:0", "localhost")}
if bad:
    print("array tasks not COMPLETED 0:0 on localhost: %s" % bad)
    sys.exit(1)
PY
    # Each task saw its own index, the array's size and the array job's id.
    for ((i = 0; i < n; i++)); do
        [ -f "$name.$i.out" ] || { echo "no Slurm output file $name.$i.out for task $i"; ok=1; }
        [ -s "$name.$i.out" ] && { echo "task $i wrote to its output: $(head -3 "$name.$i.out")"; ok=1; }
        read -r ajob tid tcount _ node <"$name.$i.env" 2>/dev/null
        [ "${ajob:-} ${tid:-} ${tcount:-} ${node:-}" = "$job $i $n localhost" ] ||
            { echo "task $i saw SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURMD_NODENAME = $(cat "$name.$i.env" 2>&1)"; ok=1; }
    done
    # The dependent merge job ran after them and wrote what merge writes here.
    # (merge exits 1 on a violation, which Slurm calls FAILED; the exit code must be merge's).
    local mstate want
    mstate=$(scontrol show job "$mjob" 2>&1 | grep -o -e 'JobState=[A-Z_]*' -e ' ExitCode=[0-9:]*' | tr -d ' ' | tr '\n' ' ')
    "$Q" merge --format json "${files[@]}" >"$name.local-merged.json" 2>/dev/null
    local mrc=$?
    if [ $mrc = 0 ]; then want="JobState=COMPLETED ExitCode=0:0 "; else want="JobState=FAILED ExitCode=$mrc:0 "; fi
    [ "$mstate" = "$want" ] || { echo "merge job $mjob: $mstate, wanted $want"; ok=1; }
    cmp -s "$name.slurm-merged.json" "$name.local-merged.json" ||
        { echo "merge job $mjob's output differs from merge run here"; ok=1; }
    [ $ok = 0 ] && echo "$name: array job $job: $n tasks COMPLETED 0:0 on localhost, task ids 0..$((n - 1)); merge job $mjob $mstate"
    return $ok
}

scale_cases
"$ROOT/scripts/slurm-local.sh" stop "$cluster" || scale_bad "slurm-local.sh stop failed"
"$ROOT/scripts/slurm-local.sh" status "$cluster" | grep -q "pid" && scale_bad "Slurm still running after stop: $("$ROOT/scripts/slurm-local.sh" status "$cluster" | grep pid)"
echo "scale_slurm: $(elapsed) s from start to stop"
[ $scale_fail = 0 ] && echo "scale_slurm: all checks passed"
exit $scale_fail
