#!/usr/bin/env bash
# Read-route benchmark (not a test). Starts the stack (release build) in a scratch folder
# on free ports, creates and submits one job, then measures with wrk `GET jobs/{id}/` and
# `GET jobs/{id}/statuses/` directly on the jobs and status services and through the dev
# gateway, next to `pgbench -S` (select-only) on the same PostgreSQL in the same run, and
# prints req/s, p50/p99 and the ratio to pgbench's rate. The jobs service's empty /health
# route, measured the same way, is the ceiling of any route of the service on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# One consumer far past kong.yml's rate limits: measure the services, not the limiter.
export GATEWAY_RATE_LIMITING=off
duration=${DURATION:-10}
connections=${CONNECTIONS:-16}
start_scratch_stack "${SIMFORGE_BUILD:-release}"
source "$SIMFORGE_DATA_DIR/local.env"
job=$(curl -fsS -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -H "Content-Type: application/json" "${SIMFORGE_URL}jobs/" -d '{
  "name": "bench", "jobanalyses": [{"analysis": {"code": "user_included", "version": "0"}, "command": "true",
  "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1}}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fsS -o /dev/null -X POST -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}jobs/$job/submit/"

pg_root=$SIMFORGE_DATA_DIR/postgres
pg_psql "$pg_root" "$SIMFORGE_PG_PORT" postgres -c "CREATE DATABASE pgbench" >/dev/null
as_pg "$(pg_bin)/pgbench" -h "$pg_root" -p "$SIMFORGE_PG_PORT" -U postgres -i -s 10 -q pgbench >/dev/null 2>&1
pgbench_tps=$(as_pg "$(pg_bin)/pgbench" -h "$pg_root" -p "$SIMFORGE_PG_PORT" -U postgres -S -c "$connections" -j 2 -T "$duration" pgbench 2>/dev/null \
    | awk '/^tps/ {print int($3); exit}')

measure() {  # measure NAME URL HEADER -> "name req/s p50 p99"
    local out
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -H "$3" "$2")
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print int($2)}' <<< "$out")
    p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
    p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
    errors=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
    [ -z "$errors" ] || { echo "$1: $errors non-2xx responses" >&2; exit 1; }
    printf '%-36s %9s %9s %9s %8s\n' "$1" "$rps" "$p50" "$p99" "$(python3 -c "print(f'{$rps / $pgbench_tps:.2f}')")"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk -t2 -c$connections -d${duration}s"
printf '%-36s %9s %9s %9s %8s\n' "what" "req/s" "p50" "p99" "x pgbench"
printf '%-36s %9s %9s %9s %8s\n' "pgbench -S (reference)" "$pgbench_tps" "" "" "1.00"
measure "GET /health direct (no database)" "http://127.0.0.1:$SIMFORGE_JOBS_PORT/health" "X-Consumer-Custom-ID: alice"
measure "GET jobs/{id}/ direct" "http://127.0.0.1:$SIMFORGE_JOBS_PORT/alice/api/v2/jobs/$job/" "X-Consumer-Custom-ID: alice"
measure "GET jobs/{id}/statuses/ direct" "http://127.0.0.1:$SIMFORGE_STATUS_PORT/alice/api/v2/jobs/$job/statuses/" "X-Consumer-Custom-ID: alice"
measure "GET jobs/{id}/ via gateway" "${SIMFORGE_URL}jobs/$job/" "Authorization: Token $SIMFORGE_TOKEN"
measure "GET jobs/{id}/statuses/ via gateway" "${SIMFORGE_URL}jobs/$job/statuses/" "Authorization: Token $SIMFORGE_TOKEN"
