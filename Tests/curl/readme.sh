#!/usr/bin/env bash
# The README's walk-throughs, run exactly as written, in scratch folders whose
# .data/local.env is the running stack's: the curl one (the first ```sh block under "Try it
# with curl", then the one under "Parallel jobs and parameter sweeps", in one shell), and
# the CLI one (under "Try it with the simforge CLI", with the built simforge on the PATH).
# Needs a running stack (deploy/run-local.sh); reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/curl/lib.sh
env_file=$(realpath "${SIMFORGE_ENV:-.data/local.env}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/.data"
cp "$env_file" "$work/.data/local.env"
# first_block SECTION: the first ```sh block under the README's "## SECTION".
first_block() {
    awk -v heading="## $1" '$0 == heading {section = 1} section && /^```sh/ {inside = 1; next} inside && /^```/ {exit} inside' README.md
}
first_block "Try it with curl" > "$work/walkthrough.sh"
check "the README has a walk-through" [ -s "$work/walkthrough.sh" ]
# The parallel job and the sweep continue in the same shell.
first_block "Parallel jobs and parameter sweeps" > "$work/parallel.sh"
check "the README has a parallel job and a sweep" [ -s "$work/parallel.sh" ]
cat "$work/parallel.sh" >> "$work/walkthrough.sh"

output=$(cd "$work" && timeout 300 bash -e "$work/walkthrough.sh" 2>/dev/null) || { echo "$output" >&2; check "the walk-through runs to its end" false; }
body=$(cat "$work/job.json" 2>/dev/null || echo '{}')
check "the job was created" [ -n "$(json "d.get('id', '')")" ]
check "the statuses show it completed successfully" grep -q '"statusReason":"Completed successfully"' <<< "$output"
check "the solver log downloads and ends with End" grep -qx 'End' <<< "$output"
check "user 2 on user 1's prefix is refused" grep -q 'You do not have permission' <<< "$output"
check "the parallel job's solver ran on 2 processors" grep -qx 'nProcs : 2' <<< "$output"
check "the sweep's 3 runs succeeded" grep -q '"statusReason":"3 of 3 runs succeeded"' <<< "$output"
check "each run had its value of nu" grep -qx '3 0.03 0' <<< "$output"

# The CLI walk-through, in a folder of its own, with the simforge of this build.
first_block "Try it with the simforge CLI" > "$work/cli.sh"
check "the README has a CLI walk-through" [ -s "$work/cli.sh" ]
mkdir -p "$work/cli/.data"
cp "$env_file" "$work/cli/.data/local.env"
bin_dir=$(realpath ".build/${SIMFORGE_BUILD:-debug}")
cli_output=$(cd "$work/cli" && PATH="$bin_dir:$PATH" timeout 300 bash -e "$work/cli.sh" 2>&1) \
    || { echo "$cli_output" >&2; check "the CLI walk-through runs to its end" false; }
check "the CLI watched the job to its success" grep -q 'Completed  (Completed successfully)' <<< "$cli_output"
check "the CLI downloaded the solver log, which ends with End" grep -qx End <(tail -n 5 "$work/cli/cavity-results/run1/cavity/log.icoFoam")
summary readme.sh
