# A whole stack (deploy/run-local.sh) in a scratch folder on free ports, for the end-to-end
# check and the benchmarks (source this file, then call start_scratch_stack BUILD). It is
# stopped and removed when the calling script exits.
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

start_scratch_stack() {
    local build=$1
    scratch=$(mktemp -d /tmp/simforge-stack.XXXXXX)
    chmod 755 "$scratch"
    export SIMFORGE_DATA_DIR=$scratch/data SIMFORGE_BUILD=$build LOG_LEVEL=${LOG_LEVEL:-warning}
    # Ports from a random base: two scratch stacks started at once (a test run beside a
    # benchmark) must not both pick the first free port and collide a moment later. Blocks
    # of 100 ports: room for the replicas of each service (deploy/run-local.sh: + 10 each).
    local base=$((20000 + RANDOM % 400 * 100))
    export SIMFORGE_PG_PORT=$(pg_free_port $((base)))
    export SIMFORGE_FILES_PORT=$(pg_free_port $((base + 1)))
    export SIMFORGE_CATALOG_PORT=$(pg_free_port $((base + 2)))
    export SIMFORGE_JOBS_PORT=$(pg_free_port $((base + 3)))
    export SIMFORGE_STATUS_PORT=$(pg_free_port $((base + 4)))
    export SIMFORGE_GATEWAY_PORT=$(pg_free_port $((base + 5)))
    export SIMFORGE_ENV=$SIMFORGE_DATA_DIR/local.env
    trap stop_scratch_stack EXIT
    deploy/run-local.sh >/dev/null
}

stop_scratch_stack() {
    deploy/run-local.sh stop >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
