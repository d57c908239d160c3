# A whole stack (deploy/run-local.sh) in a scratch folder on free ports, for the end-to-end
# check and the benchmarks (source this file, then call start_scratch_stack BUILD). It is
# stopped and removed when the calling script exits.
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

start_scratch_stack() {
    local build=$1
    scratch=$(mktemp -d /tmp/simforge-stack.XXXXXX)
    chmod 755 "$scratch"
    export SIMFORGE_DATA_DIR=$scratch/data SIMFORGE_BUILD=$build LOG_LEVEL=${LOG_LEVEL:-warning}
    export SIMFORGE_PG_PORT=$(pg_free_port 56432)
    export SIMFORGE_FILES_PORT=$(pg_free_port 18081)
    export SIMFORGE_CATALOG_PORT=$(pg_free_port 18082)
    export SIMFORGE_JOBS_PORT=$(pg_free_port 18083)
    export SIMFORGE_STATUS_PORT=$(pg_free_port 18084)
    export SIMFORGE_GATEWAY_PORT=$(pg_free_port 18000)
    export SIMFORGE_ENV=$SIMFORGE_DATA_DIR/local.env
    trap stop_scratch_stack EXIT
    deploy/run-local.sh >/dev/null
}

stop_scratch_stack() {
    deploy/run-local.sh stop >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
