# Slurm helpers for deploy/test.sh and deploy/run-local.sh (source this file): a one-node
# Slurm 22.05 cluster on this host (munged, slurmctld, slurmd), without systemd, as root.
# Adapted from shared/recipes/setup-slurm.sh (see its comments for the pitfalls met).
# Config, state, logs, pid files and the job completion log live under one folder.

# slurm_install: the Debian packages, when missing.
slurm_install() {
    local missing=() package
    for package in munge slurmctld slurmd slurm-client; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || { echo "Slurm is not installed (apt-get install ${missing[*]})" >&2; return 1; }
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

_slurm_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# slurm_start BASE: configures and starts the cluster in BASE (about 2 s once installed)
# and exports SLURM_CONF, which the Slurm commands and the jobs service's Slurm backend read.
slurm_start() {
    local base=$1 node cpus conf
    node=$(hostname -s)
    cpus=$(nproc)
    conf=$base/etc/slurm.conf
    slurm_install
    mkdir -p "$base/etc" "$base/run" "$base/log" "$base/state/slurmctld" "$base/state/slurmd"

    # munge: the package makes the key in postinst; /run/munge normally comes from systemd.
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid --log-file=/var/log/munge/munged.log
        for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
        cp /run/munge/munged.pid "$base/run/munged.pid"   # ours to stop
    fi
    munge -n | unmunge | grep -q 'STATUS: *Success' || { echo "munge self-test failed" >&2; return 1; }

    cat > "$conf" <<EOF
ClusterName=simforge
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# No cgroups in a container: /proc-based process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Without slurmdbd, finished jobs are read back with 'sacct --completion' from this log.
JobCompType=jobcomp/filetxt
JobCompLoc=$base/log/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=300
StateSaveLocation=$base/state/slurmctld
SlurmdSpoolDir=$base/state/slurmd
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
# A DOE is one job array, its run numbers the task ids (jobs allow up to 10 000 runs).
MaxArraySize=10001
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
# Accepts jobs and never starts them: the tests of jobs that end while pending in Slurm use it.
PartitionName=held Nodes=ALL MaxTime=INFINITE State=DOWN
EOF
    export SLURM_CONF=$conf
    _slurm_alive "$base/run/slurmctld.pid" || /usr/sbin/slurmctld -f "$conf" -i
    for _ in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.1; done
    _slurm_alive "$base/run/slurmd.pid" || /usr/sbin/slurmd -f "$conf"
    for _ in $(seq 1 150); do
        case "$(sinfo -h -n "$node" -o %T 2>/dev/null)" in idle*|mixed*|allocated*) return 0;; esac
        sleep 0.2
    done
    echo "the Slurm node did not come up (see $base/log)" >&2
    return 1
}

# slurm_stop BASE: cancels what is left and stops the daemons slurm_start started.
slurm_stop() {
    local base=$1 name pidfile pid
    export SLURM_CONF=$base/etc/slurm.conf
    if _slurm_alive "$base/run/slurmctld.pid"; then
        squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null || true
        for _ in $(seq 1 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    for name in slurmd slurmctld munged; do
        pidfile=$base/run/$name.pid
        [ -s "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        rm -f "$pidfile"
    done
}
