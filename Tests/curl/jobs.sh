#!/usr/bin/env bash
# A job end to end through the gateway with curl, as the README shows it: upload
# OpenFOAM's cavity case as a zip, create the job, submit it, follow its statuses with a
# long-poll until Completed, list its runs and output files, download the solver log.
# Then a long job stopped by its user, and the error cases. Needs a running stack
# (deploy/run-local.sh) and Debian's openfoam-examples; reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh

auth=(-H "Authorization: Token $SIMFORGE_TOKEN")
tutorial=/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity
[ -d "$tutorial" ] || { echo "jobs.sh needs OpenFOAM's tutorials: apt-get install openfoam openfoam-examples" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# follow JOB_ID STATUS: long-polls the job's statuses until STATUS is the newest one (60 s at most).
follow() {
    local job=$1 wanted=$2 after="" newest=""
    for _ in $(seq 1 12); do
        request "${SIMFORGE_URL}jobs/$job/statuses/?wait=5${after:+&after=$after}" "${auth[@]}"
        [ "$(json "len(d['results'])")" = 0 ] && continue
        newest=$(json "d['results'][0]['status']")
        after=$(json "d['results'][0]['statusDate']")
        [ "$newest" = "$wanted" ] && break
    done
    request "${SIMFORGE_URL}jobs/$job/statuses/" "${auth[@]}"
}

cp -r "$tutorial" "$work/cavity"
(cd "$work" && python3 -m zipfile -c cavity.zip cavity)
request "${SIMFORGE_URL}files/contents/" -X POST "${auth[@]}" -F "file=@$work/cavity.zip"
check "upload answers 201" [ "$status" = 201 ]
file_id=$(json "d['id']")

cat > "$work/job.json" <<JSON
{
  "name": "cavity",
  "jobanalyses": [{
    "analysis": {"code": "openfoam", "version": "v1912"},
    "command": "cd cavity && blockMesh && icoFoam > log.icoFoam 2>&1",
    "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1, "walltime": 1},
    "inputFiles": [{"id": "$file_id"}]
  }]
}
JSON
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d @"$work/job.json"
check "create answers 201" [ "$status" = 201 ]
check "the job carries the core summary" [ "$(json "d['jobanalyses'][0]['hardware']['coreSummary']['numberOfNodes']")" = 1 ]
check "the job carries the input File" [ "$(json "d['jobanalyses'][0]['inputFiles'][0]['name']")" = cavity.zip ]
job_id=$(json "d['id']")

request "${SIMFORGE_URL}jobs/$job_id/submit/" -X POST "${auth[@]}"
check "submit answers 200" [ "$status" = 200 ]
request "${SIMFORGE_URL}jobs/$job_id/statuses/" "${auth[@]}"
check "Pending is in the history right after submit" [ "$(json "d['results'][-1]['status']")" = Pending ]
request "${SIMFORGE_URL}jobs/$job_id/submit/" -X POST "${auth[@]}"
check "a second submit answers 200" [ "$status" = 200 ]

follow "$job_id" Completed
check "the job ran through every status once" \
    [ "$(json "','.join(s['status'] for s in d['results'])")" = "Completed,Executing,Validated,Started,Queued,Pending" ]
check "and completed successfully" [ "$(json "d['results'][0]['statusReason']")" = "Completed successfully" ]
completed_date=$(json "d['results'][0]['statusDate']")

request "${SIMFORGE_URL}jobs/$job_id/runs/" "${auth[@]}"
check "the job has one run" [ "$(json "d['count']")" = 1 ]
check "whose command exited 0" [ "$(json "d['results'][0]['exitCode']")" = 0 ]
check "with output files" [ "$(json "d['results'][0]['outputFileCount'] > 5")" = True ]
request "${SIMFORGE_URL}jobs/$job_id/files/?search=log.icoFoam" "${auth[@]}"
check "the solver log is an output file with its path" [ "$(json "d['results'][0]['relativePath']")" = cavity/log.icoFoam ]
log_id=$(json "d['results'][0]['id']")
request "${SIMFORGE_URL}jobs/$job_id/runs/1/files/?search=process_output" "${auth[@]}"
check "stdout is in process_output.log" [ "$(json "d['results'][0]['name']")" = process_output.log ]
request "${SIMFORGE_URL}files/$log_id/contents/" "${auth[@]}"
check "the solver log downloads and ends with End" [ "$(printf '%s' "$body" | grep -c '^End$')" = 1 ]

request "${SIMFORGE_URL}jobs/$job_id/statuses/?after=$completed_date&wait=1" "${auth[@]}"
check "a long-poll that runs out returns an empty page" [ "$(json "d['results']")" = "[]" ]
request "${SIMFORGE_URL}jobs/$job_id/stop/" -X POST "${auth[@]}"
check "stopping a completed job is 409" [ "$status" = 409 ]
request "${SIMFORGE_URL}jobs/$job_id/" -X PATCH "${auth[@]}" -H "Content-Type: application/json" -d '{"name": "renamed"}'
check "a submitted job can be renamed" [ "$status $(json "d.get('name')")" = "200 renamed" ]
request "${SIMFORGE_URL}jobs/$job_id/" -X PATCH "${auth[@]}" -H "Content-Type: application/json" -d '{"jobanalyses": []}'
check "changing what a submitted job runs is 409" [ "$status" = 409 ]

# A long job, stopped by its user.
sed -e 's/"cavity"/"long"/' -e 's#cd cavity && blockMesh && icoFoam > log.icoFoam 2>\&1#sleep 600#' "$work/job.json" > "$work/long.json"
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d @"$work/long.json"
long_id=$(json "d['id']")
request "${SIMFORGE_URL}jobs/$long_id/submit/" -X POST "${auth[@]}"
follow "$long_id" Executing
check "the long job runs" [ "$(json "d['results'][0]['status']")" = Executing ]
request "${SIMFORGE_URL}jobs/$long_id/runs/1/directory-contents/" "${auth[@]}"
check "a running run lists its working directory" [ "$status $(json "'process_output.log' in [e['path'] for e in d]")" = "200 True" ]
resource=$(json "[e['resource'] for e in d if e['path'] == 'process_output.log'][0]")
request "$resource?lines=5" "${auth[@]}"
check "a listed file's resource gives its last lines" [ "$status $(json "d['fileType']")" = "200 ASCII text" ]
request "$resource" "${auth[@]}"
check "its raw tail is the run's log so far" grep -q '^===== Command: sleep 600 =====$' <<<"$body"
request "${SIMFORGE_URL}jobs/$long_id/cluster_statuses/" "${auth[@]}"
check "its cluster has started" [ "$(json "d['results'][0]['status']")" = Started ]
user2_url=$(echo "$SIMFORGE_URL" | sed "s#/$SIMFORGE_USER_ID/#/$SIMFORGE_USER2_ID/#")
for path in "runs/1/directory-contents/" "runs/1/tail/process_output.log" "cluster_statuses/" "runs/1/stop/"; do
    request "${user2_url}jobs/$long_id/$path" -H "Authorization: Token $SIMFORGE_TOKEN2" -X "$([ "${path%stop/}" = "$path" ] && echo GET || echo POST)"
    check "another user gets 404 for $path of a running job" [ "$status" = 404 ]
done
request "${SIMFORGE_URL}jobs/$long_id/" -X DELETE "${auth[@]}"
check "it cannot be deleted while it runs" [ "$status" = 409 ]
request "${SIMFORGE_URL}jobs/$long_id/stop/" -X POST "${auth[@]}"
check "stop answers 202" [ "$status" = 202 ]
follow "$long_id" Completed
check "the job ended, stopped by the user" [ "$(json "d['results'][0]['statusReason']")" = "Stopped by user" ]
request "${SIMFORGE_URL}jobs/statuses/" "${auth[@]}"
check "the feed shows it newest first" [ "$(json "d['results'][0]['status'] + '/' + d['results'][0]['jobId']")" = "Completed/$long_id" ]

for path in "jobs/$job_id/" "jobs/$job_id/statuses/" "jobs/$job_id/runs/"; do
    request "${user2_url}$path" -H "Authorization: Token $SIMFORGE_TOKEN2"
    check "another user gets 404 for $path" [ "$status" = 404 ]
done
for path in "jobs/$job_id/files/" "jobs/$job_id/runs/1/files/"; do
    request "${user2_url}$path" -H "Authorization: Token $SIMFORGE_TOKEN2"
    check "another user gets 404 for $path" [ "$status" = 404 ]
done
request "${SIMFORGE_URL}jobs/$job_id/runs/2/files/" "${auth[@]}"
check "a run the job does not have is 404" [ "$status" = 404 ]
request "${SIMFORGE_URL}jobs/NoSuchJob/files/" "${auth[@]}"
check "a job that does not exist is 404" [ "$status" = 404 ]
request "${SIMFORGE_URL}jobs/"
check "no token is 401" [ "$status" = 401 ]
request "${SIMFORGE_URL}jobs/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user's token on this prefix is 403" [ "$status" = 403 ]
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d 'not json'
check "a body that is not JSON is 400 with a detail" [ "$status $(json "bool(d['detail'])")" = "400 True" ]
request "${SIMFORGE_URL}jobs/" -X POST "${auth[@]}" -H "Content-Type: application/json" -d '{"name": "x", "jobanalyses": [{"analysis": {"code": "openfoam", "version": "v1912"}, "command": "a", "hardware": {"coreType": "x"}}]}'
check "an unknown core type is 400 with the field" [ "$(json "d['jobanalyses'][0]['hardware']['coreType'][0]")" = "unknown core type 'x'" ]

for id in "$job_id" "$long_id"; do
    request "${SIMFORGE_URL}jobs/$id/" -X DELETE "${auth[@]}"
    check "deleting a completed job answers 204" [ "$status" = 204 ]
done

summary jobs.sh
