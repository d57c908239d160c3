#!/usr/bin/env bash
# DOE sweep benchmark (not a test). Starts the stack (release build, local backend with its
# default cores) in a scratch folder on free ports, then through the dev gateway creates one
# job whose FixedRange variable makes RUNS (200) runs of a trivial command (`true`), submits
# it and waits (long-polls) until it is Completed: runs per second from submit to the
# Completed status, and the time per run against `bash -c true` started RUNS times in a row
# in the same run (the floor of starting anything). Also the create (planning RUNS runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh

start_scratch_stack "${SIMFORGE_BUILD:-release}"
export RUNS=${RUNS:-200}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); one job of $RUNS runs, local backend, $(nproc) cores"

python3 - "$SIMFORGE_ENV" <<'PYTHON'
import json, os, subprocess, sys, time, urllib.request
from datetime import datetime

env = dict(line.strip().split("=", 1) for line in open(sys.argv[1]) if "=" in line)
base, token, runs = env["SIMFORGE_URL"], env["SIMFORGE_TOKEN"], int(os.environ["RUNS"])

def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")

def date(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

t = time.time()
for _ in range(runs):
    subprocess.run(["bash", "-c", "true"])
bash_seconds = (time.time() - t) / runs

job = {"name": "sweep", "jobvariables": [{"name": "i", "variableType": "Param", "valueGeneratorType": "FixedRange",
                                          "valueGeneratorSettings": {"minvalue": 1, "maxvalue": runs, "increment": 1}}],
       "jobanalyses": [{"analysis": {"code": "user_included"}, "command": "true",
                        "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": runs}}]}
t = time.time()
created = call("POST", "jobs/", job)
create_seconds = time.time() - t
assert created["expectedRuns"] == runs, created["expectedRuns"]

submitted = time.time()
call("POST", f"jobs/{created['id']}/submit/")
after, newest = None, None
while newest is None or newest["status"] != "Completed":
    page = call("GET", f"jobs/{created['id']}/statuses/?wait=30" + (f"&after={after}" if after else ""))
    if page["results"]:
        newest = page["results"][0]
        after = newest["statusDate"]
assert newest["statusReason"] == f"{runs} of {runs} runs succeeded", newest
elapsed = date(newest["statusDate"]) - submitted
rate = runs / elapsed
print(f"create (plans {runs} runs): {create_seconds * 1000:.0f} ms")
print(f"sweep: {runs} runs in {elapsed:.2f} s = {rate:.1f} runs/s (target >= 20); "
      f"{elapsed / runs * 1000:.1f} ms per run against {bash_seconds * 1000:.2f} ms per `bash -c true` "
      f"({elapsed / runs / bash_seconds:.1f}x)")
PYTHON
