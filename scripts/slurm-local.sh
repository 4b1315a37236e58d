#!/usr/bin/env bash
# scripts/slurm-local.sh — a one-node Slurm cluster on loopback, entirely under one directory,
# for trying and testing job arrays (tests/cli/scale_slurm.sh) without touching the machine's
# own Slurm or MUNGE: its own MUNGE key and daemon, its own slurm.conf, state, spool, pid and
# log files, and free TCP ports picked at start. Made for Debian bookworm's Slurm 22.05.
#
# Usage: scripts/slurm-local.sh start|stop|status DIR
#   start   installs slurmctld, slurmd, slurm-client and munge if missing (scripts/deps.sh:
#           apt-get as root or through sudo), writes DIR/slurm.conf, starts munged, slurmctld
#           and slurmd, and waits (at most SLURM_LOCAL_WAIT seconds, default 30) until sinfo
#           shows the node idle. Then `. DIR/env` sets SLURM_CONF for the client commands
#           (sbatch, squeue, scontrol, sinfo). On failure: exit 1, the reason and the log that
#           says more on stderr, and whatever it started is stopped again.
#   stop    kills every daemon DIR's files name (TERM, then KILL after 10 s) and waits for them
#           to be gone. Leaves the files (logs) in place.
#   status  prints each daemon's pid or "not running" and sinfo's line; exit 0 if all three run.
# DIR is best a fresh short directory (mktemp -d): the MUNGE socket lives in it and a Unix
# socket's path is limited to 107 bytes. The daemons run as the calling user (SlurmUser and
# SlurmdUser); as root, jobs may run as any user, otherwise only as the caller.
set -euo pipefail

usage() { echo "usage: slurm-local.sh start|stop|status DIR" >&2; exit 2; }
[ $# = 2 ] || usage
action=$1
mkdir -p "$2" 2>/dev/null || true
[ -d "$2" ] || { echo "slurm-local: no directory $2" >&2; exit 2; }
DIR=$(cd "$2" && pwd -P)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WAIT=${SLURM_LOCAL_WAIT:-30}

die() { echo "slurm-local: $*" >&2; exit 1; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Last meaningful lines of a log, for error messages.
log_tail() { if [ -f "$1" ]; then tail -n "${2:-5}" "$1" | sed 's/^/    /' >&2; fi; }

# slurmstepd processes of this cluster's jobs: their open files are in DIR's spool.
stepds() {
    local p
    for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
        local fd
        for fd in /proc/"$p"/fd/*; do
            case $(readlink "$fd" 2>/dev/null) in "$DIR"/*) echo "$p"; break ;; esac
        done
    done
    return 0
}

# Every descendant of the given pids (not themselves), from /proc.
descendants() {
    [ $# -gt 0 ] || return 0
    ps -e -o pid= -o ppid= | python3 -c '
import sys
roots = set(sys.argv[1:])
kids = {}
for line in sys.stdin:
    pid, ppid = line.split()
    kids.setdefault(ppid, []).append(pid)
todo, seen = list(roots), []
while todo:
    for k in kids.get(todo.pop(), []):
        if k not in seen:
            seen.append(k)
            todo.append(k)
print(*seen)' "$@"
}

stop_all() {
    local pidfile pids=() p t
    # Jobs first, while the controller can still cancel them (slurmd leaves running jobs
    # alone when it stops).
    if pid_alive "$DIR/slurmctld.pid" && [ -f "$DIR/slurm.conf" ]; then
        local jobs
        jobs=$(SLURM_CONF=$DIR/slurm.conf squeue -h -o %A 2>/dev/null | sort -u)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086 # job ids
            SLURM_CONF=$DIR/slurm.conf scancel --quiet --full $jobs 2>/dev/null || true
            for ((t = 0; t < 50; t++)); do
                [ -z "$(SLURM_CONF=$DIR/slurm.conf squeue -h -o %i 2>/dev/null)" ] && break
                sleep 0.1
            done
        fi
    fi
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
        if pid_alive "$pidfile"; then
            p=$(cat "$pidfile")
            kill -TERM "$p" 2>/dev/null || true
            pids+=("$p")
        fi
    done
    # Steps of jobs that outlived the cancel (the controller was gone, say): their job's
    # processes first, then the steps themselves (which ignore TERM), KILLed: the jobs were
    # to be cancelled anyway.
    local steps
    steps=$(stepds)
    # shellcheck disable=SC2086 # pids
    for p in $(descendants $steps) $steps; do
        kill -KILL "$p" 2>/dev/null || true
        pids+=("$p")
    done
    for ((t = 0; t < 100; t++)); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            echo "slurm-local: pid $p ignored TERM for 10 s, killing it" >&2
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    for p in "${pids[@]}"; do
        while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
    done
    rm -f "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"
    return 0
}

# Two free TCP ports on loopback, chosen by the kernel (then released: a small race, but
# nothing like a fixed port).
free_ports() {
    python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])'
}

start() {
    # Packages, if missing (deps.sh checks its usual tools too).
    local need=()
    command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
    command -v munged >/dev/null 2>&1 || need+=(munge)
    if [ ${#need[@]} -gt 0 ]; then
        "$ROOT/scripts/deps.sh" "${need[@]}" >&2 || die "could not install ${need[*]}"
    fi
    for c in munged munge slurmctld slurmd sinfo sbatch scontrol python3; do
        command -v "$c" >/dev/null 2>&1 || die "$c not found after installing"
    done
    pid_alive "$DIR/slurmctld.pid" && die "a cluster already runs in $DIR (stop it first)"

    local sock=$DIR/run/munge.socket
    [ ${#sock} -le 100 ] || die "$DIR is too long a path for a Unix socket ($sock): use a shorter one"
    local user
    user=$(id -un)
    mkdir -p "$DIR/munge" "$DIR/run" "$DIR/state" "$DIR/spool" "$DIR/log"
    # munged wants its socket's directories searchable by all (any user's client connects),
    # its key's directory private.
    chmod go+x "$DIR"
    chmod 755 "$DIR/run"
    chmod 700 "$DIR/munge"
    chmod 755 "$DIR/spool" # slurmd runs job scripts from it

    # MUNGE: its own key, socket, pid, log and seed files.
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --force --keyfile="$DIR/munge/munge.key" >/dev/null 2>&1 ||
            dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    else
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 600 "$DIR/munge/munge.key"
    munged --key-file="$DIR/munge/munge.key" --socket="$sock" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed" >>"$DIR/log/munged.out" 2>&1 ||
        { log_tail "$DIR/log/munged.out"; die "munged did not start (see $DIR/log/munged.log)"; }
    munge -n -S "$sock" | unmunge -S "$sock" >/dev/null 2>&1 ||
        { stop_all; die "munged runs but does not answer on $sock (see $DIR/log/munged.log)"; }

    # The node as slurmd sees it (CPUs, sockets, cores, memory), renamed localhost.
    local hw
    hw=$(slurmd -C 2>/dev/null | sed -n 's/^NodeName=[^ ]* //p' | head -1)
    [ -n "$hw" ] || hw="CPUs=$(nproc) RealMemory=$(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024))"
    local ports
    read -r -a ports <<<"$(free_ports)"

    cat >"$DIR/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster on loopback, everything under $DIR.
ClusterName=qinval-local
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, no affinity: works unprivileged and in containers.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
# Cores are the consumable resource, not memory: array tasks share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Start batch jobs as soon as they can (the default delays them by up to 3 s).
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MailProg=/bin/true
# Keep finished jobs visible to scontrol for 5 minutes (there is no accounting).
MinJobAge=300
KillWait=5
InactiveLimit=0
NodeName=localhost NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$DIR/env" <<EOF
# . $DIR/env — the client commands (sbatch, squeue, scontrol, sinfo) talk to this cluster.
export SLURM_CONF=$DIR/slurm.conf
EOF
    export SLURM_CONF=$DIR/slurm.conf

    slurmctld -f "$DIR/slurm.conf" -c >>"$DIR/log/slurmctld.out" 2>&1 ||
        { log_tail "$DIR/log/slurmctld.log"; stop_all; die "slurmctld did not start (see $DIR/log/slurmctld.log)"; }
    slurmd -f "$DIR/slurm.conf" -N localhost >>"$DIR/log/slurmd.out" 2>&1 ||
        { log_tail "$DIR/log/slurmd.log"; stop_all; die "slurmd did not start (see $DIR/log/slurmd.log)"; }

    # Bounded wait for the node to be idle.
    local t state=""
    for ((t = 0; t < WAIT * 5; t++)); do
        state=$(sinfo -h -n localhost -o '%T' 2>/dev/null | head -1 || true)
        [ "$state" = idle ] && break
        if ! pid_alive "$DIR/slurmctld.pid" && [ $t -gt 10 ]; then
            log_tail "$DIR/log/slurmctld.log"
            stop_all
            die "slurmctld exited (see $DIR/log/slurmctld.log)"
        fi
        if ! pid_alive "$DIR/slurmd.pid" && [ $t -gt 10 ]; then
            log_tail "$DIR/log/slurmd.log"
            stop_all
            die "slurmd exited (see $DIR/log/slurmd.log)"
        fi
        sleep 0.2
    done
    if [ "$state" != idle ]; then
        echo "slurm-local: node state '${state:-unknown}' after ${WAIT} s; last lines of the logs:" >&2
        log_tail "$DIR/log/slurmctld.log"
        log_tail "$DIR/log/slurmd.log"
        stop_all
        die "the node did not become idle within ${WAIT} s (see $DIR/log/slurmctld.log and $DIR/log/slurmd.log)"
    fi
    echo "slurm-local: running in $DIR (ports ${ports[0]}, ${ports[1]}); . $DIR/env to use it"
}

status() {
    local ok=0 name pidfile
    for name in munged slurmctld slurmd; do
        case $name in munged) pidfile=$DIR/munge/munged.pid ;; *) pidfile=$DIR/$name.pid ;; esac
        if pid_alive "$pidfile"; then
            echo "$name: pid $(cat "$pidfile")"
        else
            echo "$name: not running"
            ok=1
        fi
    done
    if [ -f "$DIR/slurm.conf" ] && pid_alive "$DIR/slurmctld.pid"; then
        SLURM_CONF=$DIR/slurm.conf sinfo -h -o 'partition %P, node %N: %T' 2>&1 || ok=1
    fi
    return $ok
}

case $action in
start) start ;;
stop) stop_all ;;
status) status ;;
*) usage ;;
esac
