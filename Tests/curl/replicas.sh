#!/usr/bin/env bash
# deploy/run-local.sh with two replicas of every service (SIMFORGE_REPLICAS=2), in a
# scratch folder on free ports, and replicas.py's scenarios against it: jobs across both
# jobs replicas run once, kill -9 of a jobs, files or status replica mid-work, a load test
# while every replica restarts in turn. SIMFORGE_BUILD defaults to debug (the test build).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh

export SIMFORGE_REPLICAS=2
# The load test's 50 clients are one user: far past kong.yml's per-user rate limit.
export GATEWAY_RATE_LIMITING=off
start_scratch_stack "${SIMFORGE_BUILD:-debug}"
for service in files catalog status jobs; do
    for replica in 1 2; do
        [ -s "$SIMFORGE_DATA_DIR/run/$service-$replica.pid" ] || { echo "FAILED: no pid file for $service-$replica" >&2; exit 1; }
    done
done
# Job commands (run as nobody) append their token here.
export REPLICAS_MARKERS=$scratch/markers
mkdir -m 1777 "$REPLICAS_MARKERS"
python3 -u Tests/curl/replicas.py
