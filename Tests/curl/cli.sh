#!/usr/bin/env bash
# The simforge CLI (Services/CLI): the real binary against the running stack. A folder
# uploaded (zipped on the fly) comes back identical; a 400 MB upload killed midway resumes
# at the server's offset and ends with the same MD5; `run --watch` of OpenFOAM's cavity
# exits 0 printing each status once; a failing job exits 1 with its reason; `watch --tail`
# prints a growing file once; ^C leaves the job running; `download` rebuilds the output
# tree and a second one transfers nothing; a wrong token exits 77 with one line. The
# progress display: a bar that updates under a terminal (tmux), no control characters
# without one. Needs a running stack (deploy/run-local.sh), a built `simforge`
# (.build/$SIMFORGE_BUILD), openfoam-examples and tmux; reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh
export SIMFORGE_URL SIMFORGE_TOKEN

cli=$(realpath ".build/${SIMFORGE_BUILD:-debug}/simforge")
tutorial=/usr/share/doc/openfoam-examples/examples/incompressible/icoFoam/cavity/cavity
auth=(-H "Authorization: Token $SIMFORGE_TOKEN")
work=$(mktemp -d)
tmux_socket=simforge-cli-$$
cleanup() {
    tmux -L "$tmux_socket" kill-server 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# Resume records and configuration of this test only.
export XDG_CACHE_HOME=$work/cache XDG_CONFIG_HOME=$work/config
cd "$work"

# Bytes below 0x20 other than newline, and DEL: none in output meant for logs.
no_control_characters() { python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(any(b < 32 and b != 10 or b == 127 for b in d))' "$1"; }
# How many lines of FILE show STATUS as a status line (`12:44:01  STATUS ...`).
status_count() { grep -cE "^[0-9]{2}:[0-9]{2}:[0-9]{2}  $2( |\$)" "$1" || true; }
server_md5() { request "${SIMFORGE_URL}files/$1/" "${auth[@]}"; json "d['md5']"; }
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# 1. A folder, zipped on the fly: the stored zip unpacks to the same tree, empty folder included.
mkdir -p case/sub/empty
echo hello > case/a.txt
head -c 3000000 /dev/urandom > case/sub/b.bin
folder_id=$("$cli" upload case 2> upload.err)
check "a folder upload prints the file id" grep -qxE '[A-Za-z0-9]+' <<< "$folder_id"
check "without a terminal, progress has no control characters" no_control_characters upload.err
check "without a terminal, progress comes as plain lines" grep -q '^case.zip: 100% ' upload.err
curl -fsS "${auth[@]}" -o back.zip "${SIMFORGE_URL}files/$folder_id/contents/"
mkdir back && python3 -m zipfile -e back.zip back
check "the zip unpacks to the same files" diff -r case back/case
check "the empty folder is in the zip" [ -d back/case/sub/empty ]
request "${SIMFORGE_URL}files/$folder_id/" "${auth[@]}"
check "the file is named after the folder" [ "$(json "d['name']")" = case.zip ]
# The same folder in one multipart request (what a server without tus gets): the same bytes.
plain_id=$("$cli" upload case --no-resume 2>/dev/null)
check "--no-resume uploads the same zip, byte for byte" [ "$(server_md5 "$plain_id")" = "$(server_md5 "$folder_id")" ]

# 2. 400 MB killed midway (SIGKILL: no chance to clean up), then the same command resumes.
head -c 400000000 /dev/urandom > big.bin
local_md5=$(md5sum big.bin | cut -d' ' -f1)
"$cli" upload big.bin > big.id 2> big.err &
pid=$!
# The CLI reads the file as the server takes it: kill once it read 150 MB.
while kill -0 "$pid" 2>/dev/null && [ "$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)" -lt 150000000 ]; do sleep 0.02; done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
location=$(cat "$XDG_CACHE_HOME"/simforge/uploads/* 2>/dev/null || true)
check "a killed upload leaves its resume record" [ -n "$location" ]
offset=0
for _ in $(seq 1 50); do  # the server records what arrived once it notices the cut
    offset=$(curl -sS -I "${auth[@]}" -H 'Tus-Resumable: 1.0.0' "$location" | tr -d '\r' | awk -F': ' 'tolower($1) == "upload-offset" {print $2}')
    [ "${offset:-0}" -gt 0 ] && break
    sleep 0.2
done
check "the server kept part of the killed upload ($offset bytes)" [ "${offset:-0}" -gt 0 -a "${offset:-0}" -lt 400000000 ]
started=$(date +%s%N)
resumed_id=$("$cli" upload big.bin 2> resume.err)
resume_ms=$(elapsed_ms "$started")
check "the second upload resumes the same upload" [ "$resumed_id" = "${location##*/}" ]
check "it says where it resumed" grep -q '^resuming big.bin at ' resume.err
check "the server's MD5 is the file's" [ "$(server_md5 "$resumed_id")" = "$local_md5" ]
check "the resume record is gone once complete" [ -z "$(ls "$XDG_CACHE_HOME"/simforge/uploads/)" ]
echo "cli.sh: resumed upload of $(( 400000000 - offset )) bytes in $resume_ms ms"

# 3. Under a terminal: a bar redrawn in place, with rate and ETA, that moves.
tmux -L "$tmux_socket" new-session -d -x 150 -y 5 \
    "env SIMFORGE_URL='$SIMFORGE_URL' SIMFORGE_TOKEN='$SIMFORGE_TOKEN' XDG_CACHE_HOME='$work/cache2' '$cli' upload '$work/big.bin'; sleep 60"
started=$(date +%s%N)
first=""
for _ in $(seq 1 200); do
    first=$(tmux -L "$tmux_socket" capture-pane -p | grep -E '^big.bin \[#*-*\] [0-9]+% ' || true)
    [ -n "$first" ] && break
    sleep 0.05
done
sleep 0.5
second=$(tmux -L "$tmux_socket" capture-pane -p | grep -E '^big.bin \[' || true)
check "a terminal shows a bar with bytes, rate and ETA: $first" grep -qE '[0-9.]+ [KMG]?B/400.0 MB [0-9.]+ [KMG]?B/s ETA [0-9:-]+' <<< "$first"
check "the bar moves: $second" [ -n "$second" -a "$first" != "$second" ]
for _ in $(seq 1 600); do
    tmux -L "$tmux_socket" capture-pane -p | grep -qE '^[A-Za-z0-9]+$' && break
    sleep 0.1
done
fresh_ms=$(elapsed_ms "$started")
check "the bar ends at 100% and the id follows" grep -q '100%' <<< "$(tmux -L "$tmux_socket" capture-pane -p)"
echo "cli.sh: fresh upload of 400000000 bytes in about $fresh_ms ms (under tmux)"

# 4. run --watch of the cavity case: the id on stdout, each status once on stderr, exit 0.
cp -r "$tutorial" cavity
set +e
job=$("$cli" run --analysis openfoam --version v1912 --input cavity --watch \
    --command 'cd cavity && blockMesh && icoFoam > log.icoFoam 2>&1' 2> run.err)
code=$?
set -e
check "run --watch of the cavity exits 0 (stderr: $(tail -n 3 run.err))" [ "$code" = 0 ]
for status in Pending Queued Started Validated Executing Completed; do
    check "run --watch prints $status once" [ "$(status_count run.err "$status")" = 1 ]
done
check "the end says it succeeded" grep -q 'Completed  (Completed successfully)' run.err
check "watch of an ended job prints its history and exits 0" "$cli" watch "$job" > watch.out
check "watch prints the statuses on stdout" [ "$(status_count watch.out Completed)" = 1 ]

# 5. download: the output tree, checked against the API's list; a second one transfers nothing.
"$cli" download "$job" out > download.out 2> download.err
request "${SIMFORGE_URL}jobs/$job/files/?page_size=1000" "${auth[@]}"
count=$(json "d['count']")
check "download fetched every output ($count)" [ "$(find out -type f | wc -l)" = "$count" ]
check "the tree has run1/cavity/log.icoFoam, which ends with End" grep -qx End <(tail -n 5 out/run1/cavity/log.icoFoam)
check "the tree has the run's process_output.log" [ -s out/run1/process_output.log ]
check "every file has the server's MD5" python3 -c '
import hashlib, json, sys
for f in json.loads(sys.argv[1])["results"]:
    local = "out/" + f["path"].split("/job_" + sys.argv[2] + "/", 1)[1]
    assert hashlib.md5(open(local, "rb").read()).hexdigest() == f["md5"], local' "$body" "$job"
check "download reports what it fetched" grep -q "^downloaded $count files " download.out
"$cli" download "$job" out > download2.out 2> download2.err
check "a second download transfers nothing" grep -q "^downloaded 0 files (0 B) into .*, $count already complete" download2.out
check "and draws no progress" [ ! -s download2.err ]
echo changed >> out/run1/process_output.log
"$cli" download "$job" out > download3.out 2>/dev/null
check "a changed file is downloaded again" grep -q "^downloaded 1 files .*, $((count - 1)) already complete" download3.out
check "and has the server's content again" grep -qvx changed <(tail -n 1 out/run1/process_output.log)
"$cli" download "$job" logs --include '*.log' --include '*/log.*' > /dev/null 2>&1
check "--include keeps only matching files: $(cd logs && find . -type f | sort | tr '\n' ' ')" \
    [ "$(cd logs && find . -type f | sort | tr '\n' ' ')" = "./run1/cavity/log.icoFoam ./run1/process_output.log " ]

# 6. A failing job: exit 1, one line with the reason.
set +e
"$cli" run --analysis openfoam --command 'exit 3' --watch > /dev/null 2> fail.err
code=$?
set -e
check "a failing job exits 1" [ "$code" = 1 ]
check "one error line: $(grep '^simforge' fail.err)" [ "$(grep -c '^simforge' fail.err)" = 1 ]
check "which gives the reason" grep -qx 'simforge: job [A-Za-z0-9]* did not succeed: Command exited with code 3' fail.err

# A job from a JSON file in the API's shape, with an uploaded input added.
cat > job.json <<'JSON'
{"name": "from a spec", "jobanalyses": [{"analysis": {"code": "openfoam"}, "command": "test -f case/sub/b.bin",
  "hardware": {"coreType": "standard", "coresPerSlot": 1}}]}
JSON
check "run --spec with --input-file runs the job as written" "$cli" run --spec job.json --input-file "$folder_id" --watch \
    > /dev/null 2>&1

# 7. watch --tail: a growing file printed once, line by line, the statuses on stderr.
tail_job=$("$cli" run --analysis openfoam --command 'for i in 1 2 3 4 5; do echo "tick $i" >> ticks.txt; sleep 1; done' 2>/dev/null)
"$cli" watch "$tail_job" --tail ticks.txt > tail.out 2> tail.err
check "watch --tail prints the file once: $(tr '\n' ' ' < tail.out)" [ "$(cat tail.out)" = "$(printf 'tick %s\n' 1 2 3 4 5)" ]
check "and the statuses on stderr" [ "$(status_count tail.err Completed)" = 1 ]

# 8. ^C while watching: the job keeps running, and the message says how to stop it.
long_job=$("$cli" run --analysis openfoam --command 'sleep 60' 2>/dev/null)
"$cli" watch "$long_job" > interrupt.out 2> interrupt.err &
pid=$!
for _ in $(seq 1 100); do grep -q Executing interrupt.out 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"
set +e
wait "$pid"
code=$?
set -e
check "^C exits 130" [ "$code" = 130 ]
check "and says how to stop the job" grep -q "keeps running (stop it with: simforge stop $long_job)" interrupt.err
request "${SIMFORGE_URL}jobs/$long_job/statuses/?page_size=1" "${auth[@]}"
check "the job still runs" [ "$(json "d['results'][0]['status']")" = Executing ]
"$cli" stop "$long_job" 2>/dev/null
set +e
"$cli" watch "$long_job" > /dev/null 2> stopped.err
code=$?
set -e
check "a stopped job's watch exits 1" [ "$code" = 1 ]
check "with the reason: $(tail -n 1 stopped.err)" grep -q 'did not succeed: Stopped by user' stopped.err

# 9. Listings and errors.
check "jobs lists the cavity job" grep -q "^$job " <<< "$("$cli" jobs)"
check "files --json is one array of every file" python3 -c 'import json,sys; d=json.load(sys.stdin); assert sys.argv[1] in [f["id"] for f in d]' \
    "$folder_id" <<< "$("$cli" files --json)"
check "analyses lists openfoam" grep -q '^openfoam ' <<< "$("$cli" analyses)"
set +e
"$cli" jobs --token wrong-token > /dev/null 2> auth.err
auth_code=$?
"$cli" run --analysis openfoam > /dev/null 2> usage.err
usage_code=$?
env -u SIMFORGE_URL "$cli" jobs > /dev/null 2> config.err
config_code=$?
"$cli" upload no-such-file > /dev/null 2> missing.err
missing_code=$?
"$cli" run --analysis no-such-analysis --command true > /dev/null 2> refused.err
refused_code=$?
set -e
check "a wrong token exits 77 with one line: $(cat auth.err)" [ "$auth_code" = 77 -a "$(wc -l < auth.err)" = 1 ]
check "which names the HTTP status" grep -q 'HTTP 401' auth.err
check "a usage error exits 64" [ "$usage_code" = 64 ]
check "no URL exits 64" [ "$config_code" = 64 ]
check "and says how to set it" grep -q SIMFORGE_URL config.err
check "a missing input exits 66" [ "$missing_code" = 66 ]
check "a refused job exits 65 with the API's error: $(cat refused.err)" [ "$refused_code" = 65 ]
check "which names the HTTP status" grep -q 'HTTP 400' refused.err
check "every command's help has an example" bash -c "for c in upload run watch download stop jobs files analyses; do '$cli' \$c --help | grep -q 'Example:' || exit 1; done"
check "the help says it speaks to Rescale's API" grep -q Rescale <<< "$("$cli" --help)"

summary cli.sh
