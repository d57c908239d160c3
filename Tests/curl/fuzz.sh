#!/usr/bin/env bash
# schemathesis (pinned in .ci/run) against the running stack through the gateway, driven by
# deploy/openapi.yaml: every operation, its examples, boundary values (coverage phase) and
# generated data, valid and invalid, with a fixed seed. Checks (fuzz.toml): no 5xx, only documented
# status codes and content types, bodies valid against the document, invalid data refused,
# valid data accepted. Fails on any failure; then every process of the stack must still be
# the one that started. Bounded: FUZZ_MAX_SECONDS (120) for schemathesis. Settings the
# command line cannot give: fuzz.toml (why each is there) and fuzz-hooks.py.
# Needs a scratch stack (deploy/lib/scratch-stack.sh: SIMFORGE_ENV, SIMFORGE_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "$SIMFORGE_ENV"

pids() { for file in "$SIMFORGE_DATA_DIR"/run/*.pid; do echo "$(basename "$file" .pid)=$(cat "$file")"; done; }
before=$(pids)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
# The stateful phase is left out: it chains creates into submits, and generated commands
# would run on this host. Jobs' commands are still created and validated like any field.
# Requests stay under kong.yml's rate limit (3000 a minute per consumer), or most would be 429s.
(cd "$work" && SCHEMATHESIS_HOOKS="$OLDPWD/Tests/curl/fuzz-hooks.py" timeout 240 \
    schemathesis --config-file "$OLDPWD/Tests/curl/fuzz.toml" run "$OLDPWD/deploy/openapi.yaml" \
    --url "${SIMFORGE_URL%/}" -H "Authorization: Token $SIMFORGE_TOKEN" \
    --phases examples,coverage,fuzzing --max-time "${FUZZ_MAX_SECONDS:-120}" --max-examples 40 --seed 20261202 \
    --workers 2 --rate-limit 1800/m --generation-database none --no-color --suppress-health-check all) \
    > "$work/output.txt" 2>&1 || status=$?
if [ "$status" != 0 ]; then
    cat "$work/output.txt"
    echo "FAILED: schemathesis found failures (exit $status); output above" >&2
    exit 1
fi
tail -n 25 "$work/output.txt"

for entry in $before; do
    name=${entry%%=*} pid=${entry#*=}
    [ "$(cat "$SIMFORGE_DATA_DIR/run/$name.pid" 2>/dev/null)" = "$pid" ] || { echo "FAILED: $name was restarted during the fuzzing" >&2; exit 1; }
    kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" \
        || { echo "FAILED: $name (pid $pid) died during the fuzzing" >&2; exit 1; }
done
echo "fuzz.sh: 1 passed, 0 failed"
