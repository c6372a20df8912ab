#!/usr/bin/env bash
# Start/stop a REAL single-node SLURM cluster on this machine, for tests.
#
#   tests/slurm/cluster.sh start    # install (if needed), configure, start; wait until the node is idle
#   tests/slurm/cluster.sh status   # exit 0 iff controller answers and the node is usable
#   tests/slurm/cluster.sh stop     # cancel jobs, stop the daemons we started (packages stay installed)
#
# Exit codes: 0 ok, 77 "cannot run here" (tests should SKIP), anything else = real failure.
# Set SLURM_TEST_REQUIRE=1 (e.g. in CI) to turn the 77 skips into hard failures (exit 1).
#
# Environment:
#   SLURM_TEST_DIR      state/spool/log dir (default /tmp/synthcxr-slurm)
#   SLURM_TEST_GPUS     number of fake GPUs on the node (default 2)
#   SLURM_TEST_FORCE=1  overwrite an /etc/slurm/slurm.conf that this script did not write
#   SLURM_TEST_PORTS    "ctld_port slurmd_port" (default "6817 6818", the SLURM defaults)
#
# Design notes (the "why"):
# * Debian's slurm-wlm 22.05 + munge, installed with apt-get only when missing.
# * The config goes to /etc/slurm/slurm.conf (Debian's compiled-in default) so that pytest,
#   snakemake, sbatch, srun ... find it without SLURM_CONF in their environment.
# * No systemd, no cgroups (containers usually lack a usable cgroup tree): daemons are started
#   directly, proctrack/linuxproc + task/none are used.
# * No slurmdbd: accounting is off, so `sacct` does not work -> use squeue for job status
#   (MinJobAge keeps finished jobs visible in squeue for a while).
# * GPUs are fake: gres.conf points at symlinks to /dev/null; SLURM still does the full GRES
#   bookkeeping and sets CUDA_VISIBLE_DEVICES, which is what workflow tests need to exercise.
# * Only touches what it owns: refuses to overwrite a slurm.conf it did not write, and stops
#   only daemons whose pid files it wrote.
set -euo pipefail

readonly MARKER="# managed-by: tests/slurm/cluster.sh"
readonly STATE_DIR="${SLURM_TEST_DIR:-/tmp/synthcxr-slurm}"
readonly NGPUS="${SLURM_TEST_GPUS:-2}"
readonly CONF_DIR=/etc/slurm
readonly CONF="$CONF_DIR/slurm.conf"
readonly GRES_CONF="$CONF_DIR/gres.conf"
readonly WAIT_S=60
read -r CTLD_PORT SLURMD_PORT <<<"${SLURM_TEST_PORTS:-6817 6818}"
readonly CTLD_PORT SLURMD_PORT

log() { echo "[slurm-test] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Exit 77 so that the test suite skips, unless the caller demands a working cluster.
skip() {
    log "SKIP: $*"
    if [[ "${SLURM_TEST_REQUIRE:-0}" == 1 ]]; then exit 1; fi
    exit 77
}

node_name() { hostname -s; }

# Every client call gets a timeout: a half-dead controller must not hang CI.
sq() { timeout 15 "$@"; }

# Short node state as sinfo prints it (idle, mix, alloc, down*, drain, ...); empty if unknown.
node_state() {
    sq sinfo -h -N -n "$(node_name)" -o '%t' 2>/dev/null | head -n1 || true
}

pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

is_healthy() {
    command -v sinfo >/dev/null 2>&1 || return 1
    [[ -f "$CONF" ]] || return 1
    # slurmctld only notices a dead slurmd after SlurmdTimeout (minutes), so check our pids too.
    pid_alive "$STATE_DIR/slurmctld.pid" && pid_alive "$STATE_DIR/slurmd.pid" || return 1
    sq scontrol ping >/dev/null 2>&1 || return 1
    case "$(node_state)" in
        idle | mix | alloc | comp) return 0 ;;  # no "*" suffix = slurmd responding
        *) return 1 ;;
    esac
}

munge_ok() { munge -n -t 10 2>/dev/null | unmunge >/dev/null 2>&1; }

# TERM the pid in a pid file, wait up to 15 s, then KILL. Only ever touches that one pid.
stop_pidfile() {
    local name=$1 pidfile=$2 pid i
    if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
        sleep 0.5
    done
    log "$name did not exit after TERM, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

install_packages() {
    local missing=() p
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then return 0; fi
    command -v apt-get >/dev/null 2>&1 || skip "packages missing (${missing[*]}) and no apt-get on this machine"
    log "installing ${missing[*]} with apt-get (one-off, ~10-60 s)"
    export DEBIAN_FRONTEND=noninteractive
    # Package lists are often absent in fresh containers; only refresh when the candidate is unknown.
    if ! apt-cache show slurm-wlm >/dev/null 2>&1 || ! apt-cache show munge >/dev/null 2>&1; then
        apt-get update -q </dev/null >&2 || skip "apt-get update failed (no network?)"
    fi
    # --no-install-recommends: avoids pulling mail servers etc.; force-confold keeps existing
    # configs; Lock::Timeout waits for e.g. unattended-upgrades instead of failing at once.
    apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
        -o DPkg::Lock::Timeout=120 \
        "${missing[@]}" </dev/null >&2 || skip "apt-get install ${missing[*]} failed"
}

start_munge() {
    if munge_ok; then
        [[ -f "$STATE_DIR/munged.ours" ]] || log "using already running munged (left alone on stop)"
        return 0
    fi
    # Debian's postinst normally creates the key; create one if it is missing (e.g. stripped images).
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating munge key"
        install -d -o munge -g munge -m 0700 /etc/munge
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    # munged insists on strict ownership of its dirs and on not running as root.
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    touch "$STATE_DIR/munged.ours"  # so that `stop` only stops a munged we started
    local i
    for ((i = 0; i < 20; i++)); do munge_ok && return 0; sleep 0.5; done
    die "munged did not come up (see /var/log/munge/munged.log)"
}

# Refuse to clobber a real site configuration.
check_conf_owner() {
    if [[ -f "$CONF" ]] && ! grep -qF "$MARKER" "$CONF" && [[ "${SLURM_TEST_FORCE:-0}" != 1 ]]; then
        skip "$CONF exists and was not written by this script (set SLURM_TEST_FORCE=1 to overwrite)"
    fi
}

# Print slurm.conf for this machine on stdout.
render_slurm_conf() {
    local host hw cpus sockets cores threads mem_total realmem defmem
    host=$(node_name)
    # slurmd -C reports the real hardware; the node line must match it or slurmd is rejected.
    hw=$(slurmd -C 2>/dev/null | head -n1)
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
    sockets=$(sed -n 's/.* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$hw")
    cores=$(sed -n 's/.* CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$hw")
    threads=$(sed -n 's/.* ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$hw")
    mem_total=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    [[ -n "$cpus" && -n "$mem_total" ]] || die "could not parse 'slurmd -C' output: $hw"
    # Advertise 90% of RAM: if RealMemory exceeds what slurmd measures, the node is drained.
    realmem=$((mem_total * 9 / 10))
    # Jobs without --mem must not grab the whole node (CR_Core_Memory default = all memory).
    defmem=$((realmem / cpus / 2))
    if ((defmem > 1024)); then defmem=1024; fi

    # NB: unquoted heredoc -- no backticks or $(...) in the text below.
    cat <<EOF
$MARKER  (state: $STATE_DIR)
ClusterName=synthcxr-test
# Explicit loopback addresses: works even when the hostname does not resolve (CI containers).
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none

# Daemon state, pid and log files all live in the throw-away state dir.
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups in containers: track processes via /proc, no task binding
# (srun then warns "cluster configuration lacks support for cpu binding"; harmless).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none

# No slurmdbd: no accounting (sacct will not work; use squeue).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# (AccountingStorageTRES=gres/gpu would add GPUs to "scontrol show job" TRES=, but slurmctld
#  22.05 refuses to start with it unless slurmdbd runs; GPUs still show as TresPerJob/GRES=.)

SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$defmem
# Reject jobs that can never run here (e.g. more CPUs than the node has) at submit time,
# instead of leaving them PENDING (Reason=PartitionConfig) forever and hanging the test.
EnforcePartLimits=ALL

# Keep finished jobs in squeue for 10 min so squeue-based status polling sees them finish.
MinJobAge=600
# A node that went down (e.g. slurmd restart) comes back by itself once it registers.
ReturnToService=2
InactiveLimit=0
KillWait=5
Waittime=0

GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Sockets=${sockets:-1} CoresPerSocket=${cores:-$cpus} ThreadsPerCore=${threads:-1} RealMemory=$realmem Gres=gpu:$NGPUS State=UNKNOWN
PartitionName=gpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=cpu Nodes=$host Default=NO MaxTime=INFINITE State=UP
EOF
}

# Print gres.conf on stdout (slurm reads it from the directory of slurm.conf).
render_gres_conf() {
    local host i
    host=$(node_name)
    echo "$MARKER"
    echo "AutoDetect=off"
    for ((i = 0; i < NGPUS; i++)); do
        echo "NodeName=$host Name=gpu File=$STATE_DIR/fake-gpu$i"
    done
}

# True if the installed config files are exactly what this script would write now.
config_current() {
    [[ -f "$CONF" && -f "$GRES_CONF" ]] || return 1
    diff -q <(render_slurm_conf) "$CONF" >/dev/null 2>&1 &&
        diff -q <(render_gres_conf) "$GRES_CONF" >/dev/null 2>&1
}

write_config() {
    local i
    check_conf_owner
    mkdir -p "$STATE_DIR"/{ctld,spool,log} "$CONF_DIR"
    # Fake GPU "devices": gres.conf File= must exist (else the node is drained) and must be a
    # character device, else slurmd logs an error and never sets CUDA_VISIBLE_DEVICES.
    # Symlinks to /dev/null satisfy both without mknod; slurm numbers them 0..N-1 by order.
    for ((i = 0; i < NGPUS; i++)); do ln -sfn /dev/null "$STATE_DIR/fake-gpu$i"; done
    # Write temp files and rename, so concurrent slurm clients never read a half-written file.
    render_slurm_conf >"$CONF.tmp.$$"
    render_gres_conf >"$GRES_CONF.tmp.$$"
    mv -f "$CONF.tmp.$$" "$CONF"
    mv -f "$GRES_CONF.tmp.$$" "$GRES_CONF"
}

# True (and logs) if daemon $1 is gone: its pid file names a dead pid, or is still missing
# at time $2 (in $SECONDS).
daemon_dead() {
    local pidfile="$STATE_DIR/$1.pid"
    if [[ -s "$pidfile" ]]; then
        kill -0 "$(cat "$pidfile")" 2>/dev/null && return 1
    elif ((SECONDS < $2)); then
        return 1
    fi
    log "$1 is not running"
    return 0
}

wait_for_node() {
    local host st=""
    host=$(node_name)
    # Wall-clock deadline (not an iteration count): a single sinfo may block up to its timeout.
    local deadline=$((SECONDS + WAIT_S))
    while ((SECONDS < deadline)); do
        # Daemons fork before reading everything; a fatal config error only shows up as a dead
        # pid. The pid file itself appears a moment after the fork, so allow it some seconds.
        daemon_dead slurmctld "$((deadline - WAIT_S + 10))" && break
        daemon_dead slurmd "$((deadline - WAIT_S + 10))" && break
        st=$(node_state)
        case "$st" in
            idle | mix | alloc) return 0 ;;
            # Responding (no "*") but down/drained, e.g. state left over from an earlier run.
            down | drain | drng | fail)
                log "node $host is '$st', resuming it"
                sq scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 1
    done
    log "node not idle (state '${st:-?}'); last log lines:"
    tail -n 15 "$STATE_DIR/log/slurmctld.log" "$STATE_DIR/log/slurmd.log" >&2 2>/dev/null || true
    return 1
}

print_status() {
    sq sinfo -o '%P %a %D %t %N %G' 2>&1 || true
    sq scontrol show node "$(node_name)" 2>/dev/null | grep -E 'State=|Gres=|CfgTRES=' || true
}

cmd_start() {
    [[ "$(uname -s)" == Linux ]] || skip "not Linux"
    [[ "$(id -u)" == 0 ]] || skip "must run as root (installs packages, starts daemons)"
    check_conf_owner

    if is_healthy; then
        if config_current; then
            log "already running and healthy"
            print_status
            return 0
        fi
        # Queued/running jobs survive this: slurmctld keeps them in StateSaveLocation.
        log "config changed, restarting daemons"
    fi
    # Half-started leftovers (e.g. a crashed slurmd) are restarted from scratch.
    cmd_stop_daemons

    install_packages
    mkdir -p "$STATE_DIR"
    start_munge
    write_config

    # On systemd hosts apt may have started packaged units with the wrong config; stop them.
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        systemctl stop slurmd slurmctld >/dev/null 2>&1 || true
    fi

    log "starting slurmctld and slurmd"
    slurmctld </dev/null || die "slurmctld failed to start (see $STATE_DIR/log/slurmctld.log)"
    # -N: node name must match slurm.conf even if gethostname() differs from `hostname -s`.
    slurmd -N "$(node_name)" </dev/null || die "slurmd failed to start (see $STATE_DIR/log/slurmd.log)"

    wait_for_node || { cmd_stop_daemons; die "cluster did not become healthy (logs: $STATE_DIR/log)"; }
    log "cluster is up (conf $CONF, state $STATE_DIR)"
    print_status
}

cmd_stop_daemons() {
    local dir dirs=("$STATE_DIR")
    # Also the state dir recorded in our slurm.conf, in case SLURM_TEST_DIR changed since start.
    if [[ -f "$CONF" ]]; then
        dir=$(sed -n "s|^$MARKER  (state: \(.*\))\$|\1|p" "$CONF" | head -n1)
        [[ -n "$dir" && "$dir" != "$STATE_DIR" ]] && dirs+=("$dir")
    fi
    for dir in "${dirs[@]}"; do
        stop_pidfile slurmd "$dir/slurmd.pid"
        stop_pidfile slurmctld "$dir/slurmctld.pid"
    done
}

cmd_stop() {
    # Cancel jobs first so no slurmstepd/job processes outlive slurmd -- but only on our own
    # test cluster, never on a real one whose config we did not write.
    if [[ -f "$CONF" ]] && grep -qF "$MARKER" "$CONF" && sq scontrol ping >/dev/null 2>&1; then
        local jobs
        jobs=$(sq squeue -h -t PENDING,RUNNING,SUSPENDED,CONFIGURING -o '%i' 2>/dev/null || true)
        if [[ -n "$jobs" ]]; then
            log "cancelling jobs: ${jobs//$'\n'/ }"
            # shellcheck disable=SC2086
            sq scancel $jobs 2>/dev/null || true
            sleep 2
        fi
    fi
    cmd_stop_daemons
    if [[ -f "$STATE_DIR/munged.ours" ]]; then
        stop_pidfile munged /run/munge/munged.pid
        rm -f "$STATE_DIR/munged.ours"
    fi
    log "stopped"
}

cmd_status() {
    if is_healthy; then
        print_status
        return 0
    fi
    log "cluster not healthy (node state: '$(node_state)')"
    return 1
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 {start|stop|status}" >&2
        exit 2
        ;;
esac
