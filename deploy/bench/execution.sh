#!/usr/bin/env bash
# Job execution benchmark (not a test). Starts the stack (release build, local backend) in
# a scratch folder on free ports, then through the dev gateway:
#   1. latency: JOBS (100) trivial jobs (`true`) one after the other: submit -> Executing
#      and submit -> Completed (median, p95), and how long after the agent's report
#      (the Completed status date) a client waiting in a long-poll sees it;
#   2. throughput: JOBS jobs submitted at once, jobs per second until all completed.
# Reference in the same run: starting the agent executable alone (its --help-less usage
# error: the floor of any dispatch), and running `bash -c true` JOBS times in a row.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh

start_scratch_stack "${SIMFORGE_BUILD:-release}"
export JOBS=${JOBS:-100}
export AGENT=$(swift build -c "${SIMFORGE_BUILD:-release}" --show-bin-path)/simforge-agent
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); $JOBS jobs, local backend, $(nproc) slots"

python3 - "$SIMFORGE_ENV" <<'PYTHON'
import json, os, statistics, subprocess, sys, threading, time, urllib.request
from datetime import datetime

env = dict(line.strip().split("=", 1) for line in open(sys.argv[1]) if "=" in line)
base, token, jobs = env["SIMFORGE_URL"], env["SIMFORGE_TOKEN"], int(os.environ["JOBS"])

def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")

def date(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

job = {"name": "bench", "jobanalyses": [{"analysis": {"code": "user_included", "version": "0"}, "command": "true",
       "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1}}]}

def create():
    return call("POST", "jobs/", job)["id"]

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

def ms(seconds):
    return f"{seconds * 1000:7.1f}"

# Reference: the agent executable's own start (it exits at once without its settings).
starts = []
for _ in range(20):
    t = time.time(); subprocess.run([os.environ["AGENT"]], stderr=subprocess.DEVNULL); starts.append(time.time() - t)
agent_start = statistics.median(starts)
t = time.time()
for _ in range(jobs):
    subprocess.run(["bash", "-c", "true"])
bash_rate = jobs / (time.time() - t)

# 1. Latency, one job at a time; the client follows each job with long-polls.
executing, completed, seen = [], [], []
for _ in range(jobs):
    job_id = create()
    submitted = time.time()
    call("POST", f"jobs/{job_id}/submit/")
    after, history = None, []
    while not history or history[0]["status"] != "Completed":
        page = call("GET", f"jobs/{job_id}/statuses/?wait=30" + (f"&after={after}" if after else ""))
        received = time.time()
        if page["results"]:
            history = page["results"] + history
            after = page["results"][0]["statusDate"]
    dates = {entry["status"]: date(entry["statusDate"]) for entry in history}
    executing.append(dates["Executing"] - submitted)
    completed.append(dates["Completed"] - submitted)
    seen.append(received - dates["Completed"])
    assert history[0]["statusReason"] == "Completed successfully", history[0]

# 2. Throughput: all at once; the feed tells when the last one completed.
ids = [create() for _ in range(jobs)]
t = time.time()
threads = [threading.Thread(target=call, args=("POST", f"jobs/{job_id}/submit/")) for job_id in ids]
for thread in threads: thread.start()
for thread in threads: thread.join()
pending = set(ids)
while pending:
    for job_id in list(pending):
        if call("GET", f"jobs/{job_id}/statuses/?page_size=1")["results"][0]["status"] == "Completed":
            pending.discard(job_id)
    time.sleep(0.05)
rate = jobs / (time.time() - t)

print(f"{'what':44} {'median ms':>9} {'p95 ms':>8} {'x agent start':>14}")
print(f"{'agent executable start (reference)':44} {ms(agent_start):>9} {'':8} {1.0:14.2f}")
for name, values in [("submit -> Executing (target < 250 ms)", executing), ("submit -> Completed", completed),
                     ("Completed seen by a long-poll (target < 50)", seen)]:
    print(f"{name:44} {ms(statistics.median(values)):>9} {ms(percentile(values, 95)):>8} {statistics.median(values) / agent_start:14.2f}")
print(f"throughput: {rate:.1f} jobs/s through the local backend; reference: {bash_rate:.0f} `bash -c true`/s in a row ({rate / bash_rate:.3f}x)")
PYTHON
