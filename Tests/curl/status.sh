#!/usr/bin/env bash
# The status service through the gateway with curl: a job's history (newest first,
# paginated), the feed of all the caller's jobs, `after` and `wait` long-polls, and the
# error cases (401, 403, 404, 400). Needs a running stack (deploy/run-local.sh); reads
# .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh

auth=(-H "Authorization: Token $SIMFORGE_TOKEN")

# A short job to have a history: created, submitted, run to its end.
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d '{
  "name": "status-check", "jobanalyses": [{"analysis": {"code": "user_included", "version": "0"},
  "command": "echo hello", "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1}}]}'
job_id=$(json "d['id']")
request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
check "a created job has an empty history" [ "$status $(json "d['count']")" = "200 0" ]

request "${SIMFORGE_URL}jobs/$job_id/submit/" -X POST "${auth[@]}"
request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
first=$(json "d['results'][-1]['statusDate']")
check "Pending is the oldest entry" [ "$(json "d['results'][-1]['status']")" = Pending ]

# Long-poll until Completed: each call returns as soon as something newer than `after` exists.
after=$first
for _ in $(seq 1 20); do
    request "${SIMFORGE_URL}jobs/$job_id/statuses/?after=$after&wait=10" "${auth[@]}"
    [ "$(json "len(d['results'])")" = 0 ] && continue
    after=$(json "d['results'][0]['statusDate']")
    [ "$(json "d['results'][0]['status']")" = Completed ] && break
done
check "a long-poll reaches Completed" [ "$(json "d['results'][0]['status']")" = Completed ]
check "with its reason" [ "$(json "d['results'][0]['statusReason']")" = "Completed successfully" ]

request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
check "the history is the whole lifecycle, newest first" \
    [ "$(json "','.join(s['status'] for s in d['results'])")" = "Completed,Executing,Validated,Started,Queued,Pending" ]
check "dates strictly decrease" [ "$(json "all(a['statusDate'] > b['statusDate'] for a, b in zip(d['results'], d['results'][1:]))")" = True ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/?page_size=2" "${auth[@]}"
check "pages of 2 with a next link" [ "$(json "len(d['results']) == 2 and 'page=2' in d['next']")" = True ]
check "the next link keeps the user prefix" [ "$(json "'/$SIMFORGE_USER_ID/api/v2/jobs/' in d['next']")" = True ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/?after=$after&wait=1" "${auth[@]}"
check "a wait that runs out returns an empty page" [ "$status $(json "d['results']")" = "200 []" ]

request "${SIMFORGE_URL}jobs/statuses/?after=$first" "${auth[@]}"
check "the feed has the job's changes after its submission, each with its jobId" \
    [ "$(json "sum(1 for s in d['results'] if s['jobId'] == '$job_id')")" = 5 ]

user2_url=$(echo "$SIMFORGE_URL" | sed "s#/$SIMFORGE_USER_ID/#/$SIMFORGE_USER2_ID/#")
request "${user2_url}jobs/$job_id/statuses/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user's job is 404" [ "$status" = 404 ]
request "${user2_url}jobs/statuses/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "and never in their feed" [ "$(json "any(s['jobId'] == '$job_id' for s in d['results'])")" = False ]
request "${SIMFORGE_URL}jobs/statuses/"
check "no token is 401" [ "$status" = 401 ]
request "${SIMFORGE_URL}jobs/statuses/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user's token on this prefix is 403" [ "$status" = 403 ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/?wait=61" "${auth[@]}"
check "a wait over 60 seconds is 400 with the field" [ "$status $(json "bool(d['wait'][0])")" = "400 True" ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/?after=yesterday" "${auth[@]}"
check "a malformed date is 400 with the field" [ "$status $(json "bool(d['after'][0])")" = "400 True" ]

request "${SIMFORGE_URL}jobs/$job_id/" -X DELETE "${auth[@]}"
for _ in $(seq 1 20); do
    request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
    [ "$status" = 404 ] && break
    sleep 0.1
done
check "a deleted job's history is gone" [ "$status" = 404 ]

summary status.sh
