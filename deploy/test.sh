#!/usr/bin/env bash
# The test command: starts a throwaway PostgreSQL as the postgres user and a one-node Slurm
# cluster, builds and runs the whole test suite against them, and stops what it started
# (also on failure or ^C). Needs root (Slurm's daemons) and Debian's openfoam package.
# Exits non-zero when anything fails. Extra arguments go to `swift test`
# (e.g. deploy/test.sh --filter CatalogAPITests).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib/postgres.sh
source deploy/lib/slurm.sh

command -v icoFoam >/dev/null || { echo "OpenFOAM is missing: apt-get install openfoam openfoam-examples" >&2; exit 1; }

pg_root=$(mktemp -d /tmp/simforge-test-pg.XXXXXX)
slurm_root=$(mktemp -d /tmp/simforge-test-slurm.XXXXXX)
chmod 755 "$pg_root"
cleanup() {
    pg_stop "$pg_root" || true
    slurm_stop "$slurm_root" || true
    rm -rf "$pg_root" "$slurm_root"
}
trap cleanup EXIT

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
port=$(pg_free_port 55433)
pg_init "$pg_root" "$password"
# fsync off: a test database need not survive a power cut; a real deployment keeps it on.
pg_start "$pg_root" "$port" -c fsync=off -c max_connections=300
echo "test PostgreSQL on 127.0.0.1:$port"
slurm_start "$slurm_root"
echo "test Slurm cluster: SLURM_CONF=$SLURM_CONF"

export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=$port POSTGRES_USER=postgres POSTGRES_PASSWORD=$password POSTGRES_DB=postgres
export LOG_LEVEL=${LOG_LEVEL:-warning}

swift build --build-tests
# The run command end to end, as a new user would use it (with the debug build just made).
bash Tests/curl/run-local-e2e.sh
if [ $# -gt 0 ]; then
    swift test --skip-build "$@"
else
    # Latency checks (names containing "Within") run alone, after the rest: the whole suite
    # runs in parallel on two cores, and its load would measure the machine, not the code.
    swift test --skip-build --skip Within
    swift test --skip-build --filter Within
fi
