#!/usr/bin/env bash
# A job cannot act as another user: alice's job runs a script that asks every service's port
# (and the gateway's) for bob's file, job and statuses with forged consumer headers. Every
# attempt is refused, no byte of bob's data reaches alice's outputs, the command sees no
# service secret, and the same request with the gateway's proof works (from here, where
# the proof is known), as does bob's own token through the gateway. Needs a scratch stack
# (deploy/lib/scratch-stack.sh: the SIMFORGE_*_PORT variables and SIMFORGE_DATA_DIR) whose
# commands run as an unprivileged user (run-local's default when started as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "$SIMFORGE_ENV"
source Tests/curl/lib.sh

alice=(-H "Authorization: Token $SIMFORGE_TOKEN")
bob=(-H "Authorization: Token $SIMFORGE_TOKEN2")
bob_url=${SIMFORGE_URL/\/$SIMFORGE_USER_ID\//\/$SIMFORGE_USER2_ID\/}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# lacks TEXT PATH...: no file under PATH holds TEXT.
lacks() { ! grep -rqF -- "$1" "${@:2}"; }

# wait_completed URL_PREFIX JOB AUTH...: until the job's newest status is Completed (60 s at most).
wait_completed() {
    local base=$1 job=$2
    shift 2
    for _ in $(seq 1 60); do
        request "${base}jobs/$job/statuses/?page_size=1&wait=1" "$@"
        [ "$(json "d['results'][0]['status'] if d['results'] else ''")" = Completed ] && return 0
    done
    return 1
}

# bob's secret, and a job of his.
secret="bob's secret $(head -c 12 /dev/urandom | base64)"
printf '%s' "$secret" > "$work/secret.txt"
request "${bob_url}files/contents/" -X POST "${bob[@]}" -F "file=@$work/secret.txt"
check "bob uploads his secret" [ "$status" = 201 ]
bob_file=$(json "d['id']")
request "${bob_url}jobs/" -X POST "${bob[@]}" -H "Content-Type: application/json" -d '{"name": "bobs job", "jobanalyses": [{
  "analysis": {"code": "user_included", "version": "0"}, "command": "true",
  "hardware": {"coreType": "standard", "coresPerSlot": 1}}]}'
check "bob creates a job" [ "$status" = 201 ]
bob_job=$(json "d['id']")

cat > "$work/attack.sh" <<'SCRIPT'
#!/usr/bin/env bash
# Runs as alice's job: every way to be bob without bob's token.
forged=(-H "X-Consumer-Custom-ID: bob" -H "X-Consumer-ID: bob" -H "X-Consumer-Username: bob" -H "X-Gateway-Secret: guess")
for target in "files $FILES_PORT /bob/api/v2/files/$BOB_FILE/contents/" "files-list $FILES_PORT /bob/api/v2/files/" \
              "jobs $JOBS_PORT /bob/api/v2/jobs/$BOB_JOB/" "status $STATUS_PORT /bob/api/v2/jobs/$BOB_JOB/statuses/" \
              "catalog $CATALOG_PORT /bob/api/v2/" "gateway $GATEWAY_PORT /bob/api/v2/files/$BOB_FILE/contents/"; do
    set -- $target
    code=$(curl -s -o "stolen-$1.bin" -w '%{http_code}' "${forged[@]}" "http://127.0.0.1:$2$3")
    echo "$1 $code" >> attempts.txt
    # Without any gateway header at all, too.
    code=$(curl -s -o "stolen-$1-bare.bin" -w '%{http_code}' -H "X-Consumer-Custom-ID: bob" "http://127.0.0.1:$2$3")
    echo "$1-bare $code" >> attempts.txt
done
# The secrets on disk are not the command's to read.
for name in gateway.secret internal.token local.env consumers.yml; do
    if cat "$DATA_DIR/$name" > "read-$name.txt" 2>/dev/null; then echo "read $name" >> attempts.txt; else echo "unreadable $name" >> attempts.txt; fi
done
env > environment.txt
SCRIPT
request "${SIMFORGE_URL}files/contents/" -X POST "${alice[@]}" -F "file=@$work/attack.sh"
attack_file=$(json "d['id']")
cat > "$work/job.json" <<JSON
{"name": "attack", "jobanalyses": [{
  "analysis": {"code": "user_included", "version": "0"}, "command": "bash attack.sh",
  "hardware": {"coreType": "standard", "coresPerSlot": 1},
  "envVars": {"FILES_PORT": "$SIMFORGE_FILES_PORT", "JOBS_PORT": "$SIMFORGE_JOBS_PORT", "STATUS_PORT": "$SIMFORGE_STATUS_PORT",
              "CATALOG_PORT": "$SIMFORGE_CATALOG_PORT", "GATEWAY_PORT": "$SIMFORGE_GATEWAY_PORT",
              "BOB_FILE": "$bob_file", "BOB_JOB": "$bob_job", "DATA_DIR": "$SIMFORGE_DATA_DIR"},
  "inputFiles": [{"id": "$attack_file"}]}]}
JSON
request "${SIMFORGE_URL}jobs/" -X POST "${alice[@]}" -H "Content-Type: application/json" -d @"$work/job.json"
check "alice creates the attacking job" [ "$status" = 201 ]
job=$(json "d['id']")
request "${SIMFORGE_URL}jobs/$job/submit/" -X POST "${alice[@]}"
check "the attacking job completes" wait_completed "$SIMFORGE_URL" "$job" "${alice[@]}"
check "and its command succeeded" [ "$(json "d['results'][0]['statusReason']")" = "Completed successfully" ]

# Every output of the job, downloaded.
request "${SIMFORGE_URL}jobs/$job/files/?page_size=1000" "${alice[@]}"
mkdir -p "$work/outputs"
for pair in $(json "' '.join(f['id'] + ':' + f['relativePath'] for f in d['results'])"); do
    curl -sS -o "$work/outputs/${pair#*:}" "${alice[@]}" "${SIMFORGE_URL}files/${pair%%:*}/contents/"
done
attempts=$(cat "$work/outputs/attempts.txt")
for target in files files-list jobs status catalog; do
    check "a forged request to $target's port is 401" grep -qx "$target 401" <<<"$attempts"
    check "a bare consumer header to $target's port is 401" grep -qx "$target-bare 401" <<<"$attempts"
done
check "forged headers without a token are 401 at the gateway" grep -qx "gateway 401" <<<"$attempts"
check "and a bare header too" grep -qx "gateway-bare 401" <<<"$attempts"
for name in gateway.secret internal.token local.env consumers.yml; do
    check "the command cannot read $name" grep -qx "unreadable $name" <<<"$attempts"
done
check "no byte of bob's secret reached alice's outputs" lacks "$secret" "$work/outputs"
for name in gateway.secret internal.token; do
    check "the command's environment holds no $name" lacks "$(cat "$SIMFORGE_DATA_DIR/$name")" "$work/outputs/environment.txt"
done

# The proof is what counts: the same direct request with the gateway's secret works...
request "http://127.0.0.1:$SIMFORGE_FILES_PORT/bob/api/v2/files/$bob_file/contents/" \
    -H "X-Consumer-Custom-ID: bob" -H "X-Gateway-Secret: $(cat "$SIMFORGE_DATA_DIR/gateway.secret")"
check "a direct request with the gateway's secret reads the file" [ "$status $body" = "200 $secret" ]
# ...and through the gateway, bob's token does.
request "${bob_url}files/$bob_file/contents/" "${bob[@]}"
check "bob reads his file through the gateway" [ "$status $body" = "200 $secret" ]
request "${bob_url}files/$bob_file/contents/" "${alice[@]}"
check "alice's token on bob's prefix is 403" [ "$status" = 403 ]

summary security.sh
