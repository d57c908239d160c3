#!/usr/bin/env bash
# deploy/run-local.sh end to end, in a scratch data folder on free ports: start, the user's
# checks of each service through the gateway (catalog.sh, files.sh, jobs.sh, status.sh), a
# crash of files right after an upload's 201 (crash.sh), real
# Rescale clients (clients.py), the README's walk-through as written (readme.sh), the
# OpenAPI document against the running services (openapi-check.py), schemathesis through
# the gateway (fuzz.sh), starting again while up is harmless, a restart keeps the data and
# tokens and picks up a changed catalog file, stop leaves nothing running.
# SIMFORGE_BUILD defaults to debug here (the test build already made it).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh

start_scratch_stack "${SIMFORGE_BUILD:-debug}"
fail() { echo "FAILED: $*" >&2; exit 1; }
pids() { cat "$SIMFORGE_DATA_DIR"/run/*.pid | sort | tr '\n' ' '; }
analysis_count() {
    source "$SIMFORGE_ENV"
    curl -fsS -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}analyses/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}

for name in postgres files-1 catalog-1 status-1 jobs-1 gateway; do [ -s "$SIMFORGE_DATA_DIR/run/$name.pid" ] || fail "no pid file for $name"; done
grep -q '^SIMFORGE_TOKEN=.\+' "$SIMFORGE_ENV" || fail "local.env has no token"
# Job commands run on this host as an unprivileged user: the database's trusted admin
# socket and its password-protected TCP port must both refuse them.
for host in "$SIMFORGE_DATA_DIR/postgres" 127.0.0.1; do
    if runuser -u nobody -- psql -X -w -h "$host" -p "$SIMFORGE_PG_PORT" -U postgres -d simforge -c 'SELECT 1' >/dev/null 2>&1; then
        fail "a local user reached PostgreSQL as its superuser through $host"
    fi
done
bash Tests/curl/catalog.sh
bash Tests/curl/files.sh
# A 201 is durable: the files service killed right after it loses nothing.
bash Tests/curl/crash.sh
bash Tests/curl/jobs.sh
bash Tests/curl/status.sh
bash Tests/curl/readme.sh
bash Tests/curl/security.sh
# Real Rescale clients: rescalepy as published, the python-sdk examples' requests.
python3 Tests/curl/clients.py
# Every route of deploy/openapi.yaml answers as documented.
python3 Tests/curl/openapi-check.py
# The simforge CLI, the real binary against this stack.
bash Tests/curl/cli.sh
# The fuzzer finds no failure, and no process of the stack died or was replaced.
bash Tests/curl/fuzz.sh

before=$(pids)
tokens=$(grep TOKEN "$SIMFORGE_ENV")
deploy/run-local.sh >/dev/null
[ "$(pids)" = "$before" ] || fail "starting again while up replaced processes"
count=$(analysis_count)

# A changed catalog file is reflected after a restart; data and tokens survive it.
changed=$scratch/catalog.yml
cp deploy/catalog.yml "$changed"
cat >> "$changed" <<'YAML'

  - code: e2e_solver
    name: E2E Solver
    description: Added by run-local-e2e.sh.
    vendorName: Simforge
    versions:
      - version: "1"
        versionCode: "1"
        allowedCoreTypes: [standard]
YAML
CATALOG_FILE=$changed deploy/run-local.sh restart >/dev/null
[ "$(grep TOKEN "$SIMFORGE_ENV")" = "$tokens" ] || fail "tokens changed across a restart"
[ "$(analysis_count)" = $((count + 1)) ] || fail "the added analysis is not listed after a restart"
source "$SIMFORGE_ENV"
curl -fsS -o /dev/null -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}analyses/e2e_solver/" || fail "the added analysis is not found"
# Files uploaded before the restart are still there and decrypt.
[ "$(curl -fsS -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}files/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"] > 0)')" = True ] \
    || fail "files did not survive a restart"

deploy/run-local.sh restart >/dev/null
[ "$(analysis_count)" = "$count" ] || fail "the removed analysis is still listed"
bash Tests/curl/catalog.sh

# A service that died is named by `status`, with the end of its log; start brings it back.
kill -KILL "$(cat "$SIMFORGE_DATA_DIR/run/status-1.pid")"
sleep 0.2
if report=$(deploy/run-local.sh status); then fail "status did not report the dead service: $report"; fi
grep -q '^status-1: DEAD' <<<"$report" || fail "status did not name the dead service: $report"
deploy/run-local.sh >/dev/null
deploy/run-local.sh status >/dev/null || fail "start did not bring the dead service back"

running=$(pids)
deploy/run-local.sh stop >/dev/null
for pid in $running; do
    # A zombie (exited, not yet reaped by an init that does not reap) has stopped.
    if [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; then
        fail "pid $pid still runs after stop"
    fi
done
echo "run-local-e2e.sh: 1 passed, 0 failed"
