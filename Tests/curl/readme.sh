#!/usr/bin/env bash
# The README's curl walk-through, run exactly as written (the first ```sh block under
# "Try it with curl"), in a scratch folder whose .data/local.env is the running stack's.
# Needs a running stack (deploy/run-local.sh); reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/curl/lib.sh
env_file=$(realpath "${SIMFORGE_ENV:-.data/local.env}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/.data"
cp "$env_file" "$work/.data/local.env"
awk '/^## Try it with curl/ {section = 1} section && /^```sh/ {inside = 1; next} inside && /^```/ {exit} inside' README.md \
    > "$work/walkthrough.sh"
check "the README has a walk-through" [ -s "$work/walkthrough.sh" ]

output=$(cd "$work" && timeout 300 bash -e "$work/walkthrough.sh" 2>/dev/null) || { echo "$output" >&2; check "the walk-through runs to its end" false; }
body=$(cat "$work/job.json" 2>/dev/null || echo '{}')
check "the job was created" [ -n "$(json "d.get('id', '')")" ]
check "the statuses show it completed successfully" grep -q '"statusReason":"Completed successfully"' <<< "$output"
check "the solver log downloads and ends with End" grep -qx 'End' <<< "$output"
check "user 2 on user 1's prefix is refused" grep -q 'You do not have permission' <<< "$output"
summary readme.sh
