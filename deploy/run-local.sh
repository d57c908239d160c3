#!/usr/bin/env bash
# The run command: Simforge on this machine, without Docker.
#
#   deploy/run-local.sh          build (release), start PostgreSQL, the services and the dev
#                                gateway in the background on 127.0.0.1, wait until all are
#                                ready, print how to call the API. Harmless when already up.
#   deploy/run-local.sh stop     stop everything it started (by pid file).
#   deploy/run-local.sh restart  stop, then start (picks up a changed deploy/catalog.yml).
#   deploy/run-local.sh status   which processes run; a dead one is named with the end of its
#                                log (and the exit status is 1).
#
# State lives in .data/ (kept across restarts, never committed): PostgreSQL's data, the
# generated secrets and demo users, logs (.data/log/) and pid files (.data/run/: gateway.pid,
# postgres.pid and <service>-<i>.pid for replica i of each service).
# .data/local.env has SIMFORGE_URL, SIMFORGE_USER_ID, SIMFORGE_TOKEN, SIMFORGE_USER2_ID and
# SIMFORGE_TOKEN2 for the two demo users created on first run.
#
# Settings (environment): SIMFORGE_GATEWAY_PORT (8000), SIMFORGE_FILES_PORT (8081),
# SIMFORGE_CATALOG_PORT (8082), SIMFORGE_JOBS_PORT (8083), SIMFORGE_STATUS_PORT (8084), SIMFORGE_PG_PORT (55432), SIMFORGE_BUILD (release | debug), SIMFORGE_DATA_DIR (.data),
# CATALOG_FILE (deploy/catalog.yml), LOG_LEVEL (info), GATEWAY_RATE_LIMITING (on; off for
# load tests of one user), SIMFORGE_REPLICAS (1: how many
# replicas of each service; replica i listens on the service's port + 10·(i-1), and the
# gateway and the services balance over them); for the jobs service JOBS_BACKEND (local | slurm),
# JOBS_LOCAL_CORES, JOBS_RUN_AS, JOBS_SLURM_PARTITION and SLURM_CONF (README "Configuration").
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source deploy/lib/postgres.sh

data=${SIMFORGE_DATA_DIR:-$root/.data}
mkdir -p "$data"
data=$(cd "$data" && pwd)
gateway_port=${SIMFORGE_GATEWAY_PORT:-8000}
files_port=${SIMFORGE_FILES_PORT:-8081}
catalog_port=${SIMFORGE_CATALOG_PORT:-8082}
jobs_port=${SIMFORGE_JOBS_PORT:-8083}
status_port=${SIMFORGE_STATUS_PORT:-8084}
pg_port=${SIMFORGE_PG_PORT:-55432}
build=${SIMFORGE_BUILD:-release}
replicas=${SIMFORGE_REPLICAS:-1}
[[ "$replicas" =~ ^[1-9]$|^10$ ]] || { echo "run-local: SIMFORGE_REPLICAS must be 1 to 10, got '$replicas'" >&2; exit 1; }
catalog_file=${CATALOG_FILE:-$root/deploy/catalog.yml}
pg_root=$data/postgres
run_dir=$data/run
log_dir=$data/log
services=(files catalog status jobs)

say() { printf '%s\n' "$*"; }
fail() { printf 'run-local: %s\n' "$*" >&2; exit 1; }
random_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }
# A process that exited but was not reaped yet (a zombie) counts as stopped.
is_alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# The pid in .data/run/NAME.pid, if that process still runs our binary.
running_pid() {
    local file=$run_dir/$1.pid pid
    [ -f "$file" ] || return 1
    pid=$(cat "$file")
    [ -n "$pid" ] && is_alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$2" || return 1
    echo "$pid"
}

stop_process() {
    local name=$1 pid
    if pid=$(running_pid "$name" "$2"); then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do is_alive "$pid" || break; sleep 0.1; done
        is_alive "$pid" && kill -KILL "$pid"
        say "stopped $name (pid $pid)"
    fi
    rm -f "$run_dir/$name.pid"
}

# Every pid file of a service: its replicas (<service>-<i>.pid), however many were started.
service_pid_names() {
    local file
    for file in "$run_dir/$1".pid "$run_dir/$1"-*.pid; do
        [ -f "$file" ] && basename "$file" .pid
    done
    return 0
}

stop_all() {
    stop_process gateway dev-gateway
    rm -f "$run_dir/gateway.targets"
    local service name
    for service in "${services[@]}"; do
        for name in $(service_pid_names "$service"); do stop_process "$name" "$service"; done
    done
    if [ -f "$pg_root/data/postmaster.pid" ]; then
        pg_stop "$pg_root" && say "stopped postgres"
    fi
    rm -f "$run_dir/postgres.pid"
}

# Which processes run; a process that should run but died is named with the end of its
# log, and the status is non-zero.
status_all() {
    local name pid dead=0 names=(gateway) service replicas_found
    for service in "${services[@]}"; do
        replicas_found=$(service_pid_names "$service")
        if [ -n "$replicas_found" ]; then names+=($replicas_found); else names+=("$service"); fi
    done
    names+=(postgres)
    for name in "${names[@]}"; do
        if [ ! -f "$run_dir/$name.pid" ]; then
            say "$name: stopped"
        elif pid=$(cat "$run_dir/$name.pid") && is_alive "$pid"; then
            say "$name: running (pid $pid)"
        else
            dead=1
            say "$name: DEAD (pid $pid exited; log: $log_dir/$name.log)"
            [ -f "$log_dir/$name.log" ] && tail -n 20 "$log_dir/$name.log" | sed 's/^/    /'
        fi
    done
    return $dead
}

# wait_ready NAME URL PID: until URL answers 2xx, the process dies, or 60 s pass.
wait_ready() {
    local name=$1 url=$2 pid=$3
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
        if ! is_alive "$pid"; then
            tail -n 20 "$log_dir/$name.log" >&2 || true
            fail "$name exited during start-up (log: $log_dir/$name.log)"
        fi
        sleep 0.1
    done
    tail -n 20 "$log_dir/$name.log" >&2 || true
    fail "$name not ready after 60 s (log: $log_dir/$name.log)"
}

# start_process NAME BINARY READY_URL [VAR=value ...]: in the background, in its own session.
start_process() {
    local name=$1 binary=$2 ready_url=$3 pid
    shift 3
    if pid=$(running_pid "$name" "$(basename "$binary")"); then
        say "$name already running (pid $pid)"
        return 0
    fi
    env "$@" setsid "$binary" >> "$log_dir/$name.log" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$run_dir/$name.pid"
    wait_ready "$name" "$ready_url" "$pid"
    say "started $name (pid $pid) on $ready_url"
}

# The port of each replica of a service whose first replica listens on $1.
replica_ports() {
    local i
    for ((i = 0; i < replicas; i++)); do echo $(($1 + 10 * i)); done
}

# Every replica's base URL, comma-separated: how the gateway and the other services reach it.
replica_urls() {
    local port urls=()
    for port in $(replica_ports "$1"); do urls+=("http://127.0.0.1:$port"); done
    (IFS=,; echo "${urls[*]}")
}

# start_service NAME BINARY FIRST_PORT [VAR=value ...]: its replicas 1..SIMFORGE_REPLICAS
# (replica i as NAME-i), then stops any left from a run with more replicas.
start_service() {
    local name=$1 binary=$2 first_port=$3 i=0 port pid_name
    shift 3
    for port in $(replica_ports "$first_port"); do
        i=$((i + 1))
        start_process "$name-$i" "$binary" "http://127.0.0.1:$port/ready" "$@" HTTP_HOST=127.0.0.1 HTTP_PORT="$port"
    done
    for pid_name in $(service_pid_names "$name"); do
        # A pid file without a replica number is from a version without replicas.
        if [ "$pid_name" = "$name" ] || [ "${pid_name##*-}" -gt "$replicas" ]; then
            stop_process "$pid_name" "$name"
        fi
    done
}

start_postgres() {
    local password_file=$data/postgres.password
    if [ ! -d "$pg_root/data" ]; then
        say "creating PostgreSQL cluster in $pg_root"
        ( umask 077; random_secret > "$password_file" )
        pg_init "$pg_root" "$(cat "$password_file")"
    fi
    if [ ! -f "$pg_root/data/postmaster.pid" ] || ! pg_psql "$pg_root" "$pg_port" postgres -c 'SELECT 1' >/dev/null 2>&1; then
        pg_start "$pg_root" "$pg_port"
        say "started postgres on 127.0.0.1:$pg_port"
    else
        say "postgres already running"
    fi
    head -n 1 "$pg_root/data/postmaster.pid" > "$run_dir/postgres.pid"
    pg_psql "$pg_root" "$pg_port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'simforge'" | grep -q 1 \
        || pg_psql "$pg_root" "$pg_port" postgres -c "CREATE DATABASE simforge"
}

# Each service has its own role; it owns the schema it creates and sees no other.
ensure_role() {
    local role=$1 password_file=$data/$1.db-password
    if [ ! -s "$password_file" ]; then
        ( umask 077; random_secret > "$password_file" )
    fi
    pg_psql "$pg_root" "$pg_port" simforge -v role="$role" -v password="$(cat "$password_file")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" PASSWORD :'password';
GRANT CONNECT, CREATE ON DATABASE simforge TO :"role";
SQL
}

ensure_secrets() {
    if [ ! -s "$data/internal.token" ]; then
        ( umask 077; random_secret > "$data/internal.token" )
    fi
    # The gateway sends it with every request it authenticated; the services believe a
    # consumer header only next to it.
    if [ ! -s "$data/gateway.secret" ]; then
        ( umask 077; random_secret > "$data/gateway.secret" )
    fi
    # The files service's master key (id:base64 of 32 bytes). To rotate, prepend a new
    # entry (comma-separated): the first one wraps new files, the others still unwrap.
    if [ ! -s "$data/files-master-keys" ]; then
        ( umask 077; printf 'k%s:%s\n' "$(date +%Y%m%d)" "$(head -c 32 /dev/urandom | base64 -w0)" > "$data/files-master-keys" )
    fi
}

ensure_demo_users() {
    if [ ! -s "$data/consumers.yml" ]; then
        local token1 token2
        token1=$(random_secret)
        token2=$(random_secret)
        ( umask 077
          cat > "$data/consumers.yml" <<YAML
# Generated by deploy/run-local.sh: the demo users and their API tokens. Never commit.
consumers:
  - username: alice
    custom_id: alice
    keyauth_credentials:
      - key: "$token1"
  - username: bob
    custom_id: bob
    keyauth_credentials:
      - key: "$token2"
YAML
        )
        say "created demo users alice and bob"
    fi
    local tokens
    mapfile -t tokens < <(grep -- '- key:' "$data/consumers.yml" | sed -E 's/.*key: "?([^"]*)"?/\1/')
    ( umask 077
      cat > "$data/local.env" <<ENV
SIMFORGE_URL=http://127.0.0.1:$gateway_port/alice/api/v2/
SIMFORGE_USER_ID=alice
SIMFORGE_TOKEN=${tokens[0]}
SIMFORGE_USER2_ID=bob
SIMFORGE_TOKEN2=${tokens[1]}
ENV
    )
}

build_binaries() {
    say "building ($build) ..."
    local output
    output=$(swift build -c "$build" 2>&1) || { printf '%s\n' "$output" >&2; fail "build failed"; }
    bin_dir=$(swift build -c "$build" --show-bin-path)
}

start_all() {
    command -v curl >/dev/null || fail "curl is needed (apt-get install curl)"
    mkdir -p "$run_dir" "$log_dir"
    build_binaries
    start_postgres
    ensure_secrets
    ensure_role catalog
    ensure_role files
    ensure_role status
    ensure_role jobs
    ensure_demo_users

    local common=(LOG_LEVEL="${LOG_LEVEL:-info}" INTERNAL_TOKEN="$(cat "$data/internal.token")"
                  GATEWAY_SECRET="$(cat "$data/gateway.secret")" PUBLIC_URL="http://127.0.0.1:$gateway_port"
                  POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$pg_port" POSTGRES_DB=simforge)
    start_service files "$bin_dir/files" "$files_port" "${common[@]}" \
        FILES_STORAGE_DIR="$data/storage" JOBS_URL="$(replica_urls "$jobs_port")" \
        FILES_MASTER_KEYS="$(cat "$data/files-master-keys")" \
        POSTGRES_USER=files POSTGRES_PASSWORD="$(cat "$data/files.db-password")"
    start_service catalog "$bin_dir/catalog" "$catalog_port" "${common[@]}" CATALOG_FILE="$catalog_file" \
        POSTGRES_USER=catalog POSTGRES_PASSWORD="$(cat "$data/catalog.db-password")"
    start_service status "$bin_dir/status" "$status_port" "${common[@]}" \
        POSTGRES_USER=status POSTGRES_PASSWORD="$(cat "$data/status.db-password")"
    # Jobs run on this host (the agent's work folders in .data/work) unless JOBS_BACKEND=slurm.
    # Started as root, the commands run as `nobody`: a user's command must not read .data.
    local run_as=${JOBS_RUN_AS:-}
    [ -z "$run_as" ] && [ "$(id -u)" = 0 ] && run_as=nobody
    local execution=(JOBS_BACKEND="${JOBS_BACKEND:-local}" JOBS_WORK_DIR="$data/work" JOBS_RUN_AS="$run_as")
    local name
    for name in JOBS_LOCAL_CORES JOBS_SLURM_PARTITION SLURM_CONF; do
        [ -n "${!name:-}" ] && execution+=("$name=${!name}")
    done
    # Agents report to any jobs replica: the one that started them may be gone.
    start_service jobs "$bin_dir/jobs" "$jobs_port" "${common[@]}" "${execution[@]}" \
        JOBS_URL="$(replica_urls "$jobs_port")" CATALOG_URL="$(replica_urls "$catalog_port")" \
        FILES_URL="$(replica_urls "$files_port")" STATUS_URL="$(replica_urls "$status_port")" \
        POSTGRES_USER=jobs POSTGRES_PASSWORD="$(cat "$data/jobs.db-password")"
    local targets=(GATEWAY_UPSTREAM_CATALOG="$(replica_urls "$catalog_port")" GATEWAY_UPSTREAM_FILES="$(replica_urls "$files_port")"
                   GATEWAY_UPSTREAM_STATUS="$(replica_urls "$status_port")" GATEWAY_UPSTREAM_JOBS="$(replica_urls "$jobs_port")")
    # A gateway balancing over another set of replicas is started again.
    if [ "$(cat "$run_dir/gateway.targets" 2>/dev/null)" != "${targets[*]}" ]; then
        stop_process gateway dev-gateway
    fi
    start_process gateway "$bin_dir/dev-gateway" "http://127.0.0.1:$gateway_port/health" \
        LOG_LEVEL="${LOG_LEVEL:-info}" GATEWAY_HOST=127.0.0.1 GATEWAY_PORT="$gateway_port" GATEWAY_SECRET="$(cat "$data/gateway.secret")" \
        GATEWAY_CONFIG="$root/kong.yml,$data/consumers.yml" GATEWAY_RATE_LIMITING="${GATEWAY_RATE_LIMITING:-on}" "${targets[@]}"
    echo "${targets[*]}" > "$run_dir/gateway.targets"

    cat <<EOT

Simforge is up. Gateway: http://127.0.0.1:$gateway_port  (logs: $log_dir, stop: deploy/run-local.sh stop)
Demo users and tokens are in $data/local.env. Try:

  source $data/local.env
  curl -H "Authorization: Token \$SIMFORGE_TOKEN" "\${SIMFORGE_URL}analyses/"
EOT
}

case "${1:-start}" in
    start) start_all ;;
    stop) stop_all ;;
    restart) stop_all; start_all ;;
    status) status_all ;;
    *) fail "usage: deploy/run-local.sh [start|stop|restart|status]" ;;
esac
