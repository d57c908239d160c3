#!/usr/bin/env bash
# Jobs and their status history through the gateway with curl: create, submit, statuses,
# runs, a long-poll, stop, delete, and the error cases. Needs a running stack
# (deploy/run-local.sh); reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh

auth=(-H "Authorization: Token $SIMFORGE_TOKEN")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'FoamFile { version 2.0; }\n' > "$work/controlDict"
request "${SIMFORGE_URL}files/contents/" -X POST "${auth[@]}" -F "file=@$work/controlDict"
file_id=$(json "d['id']")

cat > "$work/job.json" <<JSON
{
  "name": "cavity",
  "jobanalyses": [{
    "analysis": {"code": "openfoam", "version": "v1912"},
    "command": "blockMesh && icoFoam",
    "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1, "walltime": 1},
    "inputFiles": [{"id": "$file_id", "decompress": false}]
  }]
}
JSON
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d @"$work/job.json"
check "create answers 201" [ "$status" = 201 ]
check "the job carries the core summary" [ "$(json "d['jobanalyses'][0]['hardware']['coreSummary']['numberOfNodes']")" = 1 ]
check "the job carries the input File" [ "$(json "d['jobanalyses'][0]['inputFiles'][0]['name']")" = controlDict ]
job_id=$(json "d['id']")

request "${SIMFORGE_URL}jobs/$job_id/submit/" -X POST "${auth[@]}"
check "submit answers 200" [ "$status" = 200 ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
check "Pending is the newest status right after submit" [ "$(json "d['results'][0]['status']")" = Pending ]
pending_date=$(json "d['results'][0]['statusDate']")
request "${SIMFORGE_URL}jobs/$job_id/submit/" -X POST "${auth[@]}"
check "a second submit answers 200" [ "$status" = 200 ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
check "and starts nothing" [ "$(json "d['count']")" = 1 ]

request "${SIMFORGE_URL}jobs/$job_id/runs/" "${auth[@]}"
check "the job has run 1" [ "$(json "d['results'][0]['id']")" = 1 ]
request "${SIMFORGE_URL}jobs/?job_status=PENDING" "${auth[@]}"
check "the job is listed as pending" [ "$(json "any(j['id'] == '$job_id' for j in d['results'])")" = True ]

request "${SIMFORGE_URL}jobs/$job_id/statuses/?after=$pending_date&wait=1" "${auth[@]}"
check "a long-poll that runs out returns an empty page" [ "$(json "d['results']")" = "[]" ]

request "${SIMFORGE_URL}jobs/$job_id/stop/" -X POST "${auth[@]}"
check "stop answers 202" [ "$status" = 202 ]
request "${SIMFORGE_URL}jobs/statuses/" "${auth[@]}"
check "the feed shows the job completed" [ "$(json "d['results'][0]['status'] + '/' + d['results'][0]['jobId']")" = "Completed/$job_id" ]
check "stopped by the user" [ "$(json "d['results'][0]['statusReason']")" = "Stopped by user" ]

user2_url=$(echo "$SIMFORGE_URL" | sed "s#/$SIMFORGE_USER_ID/#/$SIMFORGE_USER2_ID/#")
request "${user2_url}jobs/$job_id/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user gets 404 for the job" [ "$status" = 404 ]
request "${user2_url}jobs/$job_id/statuses/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "and for its statuses" [ "$status" = 404 ]
request "${SIMFORGE_URL}jobs/"
check "no token is 401" [ "$status" = 401 ]
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d '{"name": "x", "jobanalyses": [{"analysis": {"code": "openfoam", "version": "v1912"}, "command": "a", "hardware": {"coreType": "x"}}]}'
check "an unknown core type is 400 with the field" [ "$(json "d['jobanalyses'][0]['hardware']['coreType'][0]")" = "unknown core type 'x'" ]

request "${SIMFORGE_URL}jobs/$job_id/" -X DELETE "${auth[@]}"
check "deleting the completed job answers 204" [ "$status" = 204 ]

summary jobs.sh
