#!/usr/bin/env bash
# Read-route benchmark (not a test). Starts the stack (release build) in a scratch folder
# on free ports, creates and submits one job, then measures with wrk `GET jobs/{id}/` and
# `GET jobs/{id}/statuses/` directly on the jobs and status services and through the dev
# gateway, next to `pgbench -S` (select-only) on the same PostgreSQL in the same run, and
# prints req/s, p50/p99, the ratio to pgbench's rate, and each route's rate through the
# gateway as a ratio to its rate directly. The jobs service's empty /health
# route, measured the same way, is the ceiling of any route of the service on this machine.
# The services keep hot reads in a cache (READ_CACHE_ENTRIES); the two direct routes are
# measured again with it off (every read from PostgreSQL). This machine's speed drifts by
# a third within minutes (other virtual machines on the host), so the run is ROUNDS rounds
# (default 3) of pgbench then every route, DURATION seconds each (default 6), each route
# compared with the pgbench of its own round; the table shows medians over the rounds and
# the worst p99.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# One consumer far past kong.yml's rate limits: measure the services, not the limiter.
export GATEWAY_RATE_LIMITING=off
duration=${DURATION:-6}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-16}
start_scratch_stack "${SIMFORGE_BUILD:-release}"
source "$SIMFORGE_DATA_DIR/local.env"
job=$(curl -fsS -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -H "Content-Type: application/json" "${SIMFORGE_URL}jobs/" -d '{
  "name": "bench", "jobanalyses": [{"analysis": {"code": "user_included", "version": "0"}, "command": "true",
  "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1}}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fsS -o /dev/null -X POST -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}jobs/$job/submit/"

pg_root=$SIMFORGE_DATA_DIR/postgres
pgbench() { as_pg "$(pg_bin)/pgbench" -h "$pg_root" -p "$SIMFORGE_PG_PORT" -U postgres "$@" pgbench 2>/dev/null; }
pgbench_tps() {  # the select-only rate with as many clients as wrk has connections
    pgbench -S -c "$connections" -j 2 -T "$1" | awk '/^tps/ {print int($3); exit}'
}
pg_psql "$pg_root" "$SIMFORGE_PG_PORT" postgres -c "CREATE DATABASE pgbench" >/dev/null
pgbench -i -s 10 -q >/dev/null
# Not against the checkpoint and autovacuum that follow loading the table: that ran
# pgbench up to a third slower and flattered the ratios.
pg_psql "$pg_root" "$SIMFORGE_PG_PORT" pgbench -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
pgbench_tps 3 >/dev/null

results=$(mktemp)
measure() {  # measure ROUND NAME URL HEADER...: appends "round|name|req/s|p50|p99" to the results
    local out rps p50 p99 errors round=$1 name=$2 url=$3 headers=()
    shift 3
    for header in "$@"; do headers+=(-H "$header"); done
    out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "${headers[@]}" "$url")
    rps=$(awk '/Requests\/sec/ {print int($2)}' <<< "$out")
    p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
    p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
    errors=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
    [ -z "$errors" ] || { echo "$name: $errors non-2xx responses" >&2; exit 1; }
    echo "$round|$name|$rps|$p50|$p99" >> "$results"
}

# Directly to a service, as the gateway calls it (with the proof that the gateway sent it).
direct=("X-Consumer-Custom-ID: alice" "X-Gateway-Secret: $(cat "$SIMFORGE_DATA_DIR/gateway.secret")")
rounds_of() {  # rounds_of SUFFIX: every route of this configuration, ROUNDS times
    local round
    for round in $(seq "$rounds"); do
        echo "$round|pgbench -S (reference)|$(pgbench_tps "$duration")||" >> "$results"
        if [ -z "$1" ]; then
            measure "$round" "GET /health direct (no database)" "http://127.0.0.1:$SIMFORGE_JOBS_PORT/health" "${direct[@]}"
        fi
        measure "$round" "GET jobs/{id}/ direct$1" "http://127.0.0.1:$SIMFORGE_JOBS_PORT/alice/api/v2/jobs/$job/" "${direct[@]}"
        measure "$round" "GET jobs/{id}/statuses/ direct$1" \
            "http://127.0.0.1:$SIMFORGE_STATUS_PORT/alice/api/v2/jobs/$job/statuses/" "${direct[@]}"
        if [ -z "$1" ]; then
            measure "$round" "GET jobs/{id}/ via gateway" "${SIMFORGE_URL}jobs/$job/" "Authorization: Token $SIMFORGE_TOKEN"
            measure "$round" "GET jobs/{id}/statuses/ via gateway" "${SIMFORGE_URL}jobs/$job/statuses/" "Authorization: Token $SIMFORGE_TOKEN"
        fi
    done
}

rounds_of ""
READ_CACHE_ENTRIES=0 deploy/run-local.sh restart >/dev/null
echo "round|restart|||" >> "$results"
rounds_of ", no cache"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk -t2 -c$connections -d${duration}s, $rounds rounds"
python3 - "$results" <<'PY'
import statistics, sys

def ms(text):
    return float(text[:-2]) / 1000 if text.endswith("us") else float(text[:-2]) if text.endswith("ms") else float(text[:-1]) * 1000

rows, reference, order, phase = {}, {}, [], 0
for line in open(sys.argv[1]):
    round_, name, rps, p50, p99 = line.rstrip("\n").split("|")
    if name == "restart":
        phase += 1
        continue
    key = (phase, name)
    if key not in rows:
        rows[key] = []
        order.append(key)
    if name.startswith("pgbench"):
        reference[(phase, round_)] = int(rps)
    rows[key].append((round_, int(rps), p50, p99))

print(f"{'what':<42} {'req/s':>8} {'p50':>9} {'p99 (worst)':>12} {'x pgbench':>10}   per round")
for phase, name in order:
    runs = rows[(phase, name)]
    ratios = [rps / reference[(phase, round_)] for round_, rps, _, _ in runs]
    median_rps = int(statistics.median(rps for _, rps, _, _ in runs))
    p50 = f"{statistics.median(ms(p) for _, _, p, _ in runs if p):.2f}ms" if runs[0][2] else ""
    p99 = f"{max(ms(p) for _, _, _, p in runs if p):.2f}ms" if runs[0][3] else ""
    per_round = " ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"{name:<42} {median_rps:>8} {p50:>9} {p99:>12} {statistics.median(ratios):>10.2f}   {per_round}")

# The gateway's cost: each route through it against the same route directly, round by round.
print()
for route in ("GET jobs/{id}/", "GET jobs/{id}/statuses/"):
    direct = {round_: rps for round_, rps, _, _ in rows[(0, f"{route} direct")]}
    via = {round_: rps for round_, rps, _, _ in rows[(0, f"{route} via gateway")]}
    ratios = [via[round_] / direct[round_] for round_ in sorted(via)]
    print(f"{route} via gateway / direct: {statistics.median(ratios):.2f}   per round " + " ".join(f"{r:.2f}" for r in ratios))
PY
rm -f "$results"
