#!/usr/bin/env bash
# An upload's 201 means the file is durable: the files service is killed (-9) the moment
# the 201 arrives, started again, and the file reads back whole with its MD5; an upload
# killed mid-way leaves no file row. Needs a running stack (deploy/run-local.sh) whose data
# folder is $SIMFORGE_DATA_DIR; reads $SIMFORGE_ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
source "$SIMFORGE_ENV"
source Tests/curl/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 64000000 /dev/urandom > "$work/case.bin"
expected_md5=$(md5sum "$work/case.bin" | cut -d' ' -f1)
files_pid() { cat "$SIMFORGE_DATA_DIR/run/files-1.pid"; }
# After a restart the gateway takes files back once its active health check sees it answer
# (kong.yml's upstream: a probe a second while unhealthy).
restart_files() {
    deploy/run-local.sh >/dev/null
    for _ in $(seq 1 100); do
        [ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}files/?page_size=1")" = 200 ] && return 0
        sleep 0.2
    done
    echo "FAILED: files is not reachable through the gateway 20 s after its restart" >&2
    exit 1
}

# The kill follows the 201 at once: curl writes the answer, the shell kills.
request "${SIMFORGE_URL}files/contents/" -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -F "file=@$work/case.bin"
kill -KILL "$(files_pid)"
check "upload answers 201" [ "$status" = 201 ]
id=$(json "d['id']")
check "the upload's md5 is the file's" [ "$(json "d['md5']")" = "$expected_md5" ]

# A second upload cut by the same kill while its body arrives.
restart_files
before=$(curl -fsS -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}files/?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
curl -sS -o /dev/null --limit-rate 8M -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -F "file=@$work/case.bin" \
    "${SIMFORGE_URL}files/contents/" 2>/dev/null &
uploader=$!
sleep 2
kill -KILL "$(files_pid)"
wait "$uploader" || true
restart_files

curl -sS -o "$work/back" -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}files/$id/contents/"
check "after the restart the file reads back byte for byte" cmp -s "$work/case.bin" "$work/back"
request "${SIMFORGE_URL}files/$id/" -H "Authorization: Token $SIMFORGE_TOKEN"
check "after the restart the File keeps its md5" [ "$(json "d['md5']")" = "$expected_md5" ]
after=$(curl -fsS -H "Authorization: Token $SIMFORGE_TOKEN" "${SIMFORGE_URL}files/?page_size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
check "the upload killed mid-way left no file" [ "$after" = "$before" ]
summary "crash.sh"
