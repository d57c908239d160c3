#!/usr/bin/env python3
"""Two replicas of every service (deploy/run-local.sh, SIMFORGE_REPLICAS=2) behind the dev
gateway, and real processes killed under them (run by replicas.sh, which starts the stack):

- 100 jobs submitted through the gateway (so across both jobs replicas) each run once;
- kill -9 of the jobs replica whose agents are running: the jobs complete, histories whole;
- kill -9 of a files replica in the middle of a tus PATCH: the upload resumes through the
  other replica and ends with the right MD5; new uploads succeed meanwhile;
- kill -9 of a status replica: long-polls on the other still wake within 50 ms of an event;
- 50 clients mixing uploads, job submissions and status reads while every replica is
  restarted in turn: no file lost, no transition lost or doubled; the error rate printed;
- after all that (over 1 000 jobs), jobs' outbox holds a bounded tail, not every event.

A job's command appends its own token to a shared file, so "ran once" is counted where it
happens, not inferred from the API.
"""
import base64
import datetime
import hashlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ENV = dict(line.split("=", 1) for line in open(os.environ["SIMFORGE_ENV"]).read().splitlines() if "=" in line)
BASE = ENV["SIMFORGE_URL"]
DATA = os.environ["SIMFORGE_DATA_DIR"]
MARKERS = os.environ["REPLICAS_MARKERS"]
AUTH = {"Authorization": "Token " + ENV["SIMFORGE_TOKEN"]}
TUS = {"Tus-Resumable": "1.0.0"}
passed = failed = 0
# The status of this thread's last call, for the load test's tally of failures.
last_call = threading.local()


def check(description, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {description} {str(detail)[:400]}", file=sys.stderr)


def call(method, path, body=None, headers=None, timeout=90):
    """(status, headers, body); a connection failure is status 0."""
    request = urllib.request.Request(BASE + path, data=body, method=method, headers={**AUTH, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        answer = error.code, error.headers, error.read()
    except (OSError, http.client.HTTPException) as error:
        answer = 0, {}, str(error).encode()
    last_call.status = answer[0]
    return answer


def pid(name):
    return int(open(f"{DATA}/run/{name}.pid").read())


def bring_back():
    """deploy/run-local.sh start: starts the replicas that are not running, nothing else."""
    subprocess.run(["deploy/run-local.sh"], check=True, stdout=subprocess.DEVNULL)


def wait_exit(process_id, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            state = open(f"/proc/{process_id}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.05)


# Jobs ------------------------------------------------------------------------------------

def submit(command, name="replicas"):
    """Creates and submits a job; its id, or None when either call failed."""
    job = {"name": name, "jobanalyses": [{
        "analysis": {"code": "user_included", "version": "0"}, "command": command,
        "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1},
    }]}
    status, _, body = call("POST", "jobs/", json.dumps(job).encode(), {"Content-Type": "application/json"})
    if status != 201:
        return None
    job_id = json.loads(body)["id"]
    status, _, _ = call("POST", f"jobs/{job_id}/submit/")
    return job_id if status == 200 else None


def marked_job(command_before=""):
    """A job whose command appends a token of its own to the markers file: (id, token)."""
    token = "%016x" % random.getrandbits(64)
    return submit(f"{command_before}echo {token} >> {MARKERS}/ran"), token


def history(job_id):
    status, _, body = call("GET", f"jobs/{job_id}/statuses/?page_size=100")
    return [entry["status"] for entry in json.loads(body)["results"]] if status == 200 else None


def wait_ended(job_ids, seconds):
    """Each job's status history (newest first) once it ended, or as it was at the deadline."""
    histories, deadline = {}, time.time() + seconds
    pending = set(job_ids)
    while pending and time.time() < deadline:
        for job_id in list(pending):
            seen = history(job_id)
            if seen and seen[0] in ("Completed", "Failed", "Stopped"):
                histories[job_id] = seen
                pending.discard(job_id)
        if pending:
            time.sleep(0.5)
    for job_id in pending:
        histories[job_id] = history(job_id)
    return histories


def check_jobs_ran_once(label, jobs, seconds=180):
    """jobs: [(id, token)]. Each Completed, with no status twice, its command run once."""
    histories = wait_ended([job_id for job_id, _ in jobs], seconds)
    ran = open(f"{MARKERS}/ran").read().split() if os.path.exists(f"{MARKERS}/ran") else []
    counts = {token: ran.count(token) for _, token in jobs}
    not_completed = {j: h for j, h in histories.items() if not h or h[0] != "Completed"}
    doubled = {j: h for j, h in histories.items() if h and len(h) != len(set(h))}
    check(f"{label}: every job completed", not not_completed, not_completed)
    check(f"{label}: no status twice in a history", not doubled, doubled)
    check(f"{label}: every command ran exactly once", all(count == 1 for count in counts.values()),
          {token: count for token, count in counts.items() if count != 1})


def agent_parents():
    """The pids of the processes that started the running agents."""
    parents = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if b"simforge-agent" in open(f"/proc/{entry}/cmdline", "rb").read():
                    parents.add(int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1]))
            except OSError:
                pass
    return parents


# Files -----------------------------------------------------------------------------------

def multipart_upload(name, content):
    boundary = "replicas%016x" % random.getrandbits(64)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    status, _, answer = call("POST", "files/contents/", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return json.loads(answer)["id"] if status == 201 else None


def direct_patch_until_killed(replica, upload_id, content, chunk=2 << 20):
    """A tus PATCH sent straight to one files replica, as the gateway sends it, cut by
    killing that replica after a few chunks; how many bytes were sent."""
    targets = dict(t.split("=", 1) for t in open(f"{DATA}/run/gateway.targets").read().split())
    replica_port = int(targets["GATEWAY_UPSTREAM_FILES"].split(",")[replica - 1].rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", replica_port, timeout=30)
    connection.putrequest("PATCH", f"{urllib.parse.urlparse(BASE).path}files/uploads/{upload_id}")
    user = ENV["SIMFORGE_USER_ID"]
    headers = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0",
               "Content-Length": str(len(content)), "X-Consumer-Custom-ID": user, "X-Consumer-ID": user,
               "X-Consumer-Username": user, "X-Gateway-Secret": open(f"{DATA}/gateway.secret").read().strip()}
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    for sent in range(chunk, 4 * chunk, chunk):
        connection.send(content[sent - chunk:sent])
        time.sleep(0.1)
    victim = pid(f"files-{replica}")
    os.kill(victim, signal.SIGKILL)
    wait_exit(victim)
    connection.close()
    return sent


def resume_through_gateway(upload_id, content, seconds=60):
    """HEAD for the offset, PATCH the rest, until the upload is whole (a dead replica's
    writer lease may hold it for up to 30 s: 409 meanwhile)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, headers, _ = call("HEAD", f"files/uploads/{upload_id}", headers=TUS)
        if status == 200:
            offset = int(headers["Upload-Offset"])
            status, headers, _ = call("PATCH", f"files/uploads/{upload_id}", content[offset:],
                                      {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)})
            if status == 204 and int(headers["Upload-Offset"]) == len(content):
                return offset
        time.sleep(1)
    return None


# The scenarios ---------------------------------------------------------------------------

def exactly_once():
    jobs = [marked_job() for _ in range(100)]
    check("100 jobs created and submitted", all(job_id for job_id, _ in jobs), jobs)
    check_jobs_ran_once("100 jobs across two jobs replicas", jobs)


def kill_jobs_replica():
    jobs = [marked_job("sleep 6; ") for _ in range(4)]
    deadline = time.time() + 60
    while time.time() < deadline and not all("Executing" in (history(job_id) or []) for job_id, _ in jobs):
        time.sleep(0.3)
    parents = agent_parents()
    replicas = {name: pid(name) for name in ("jobs-1", "jobs-2")}
    victims = [name for name, process_id in replicas.items() if process_id in parents]
    check("the running agents were started by one jobs replica", len(victims) == 1, (parents, replicas))
    for name in victims:
        os.kill(replicas[name], signal.SIGKILL)
        wait_exit(replicas[name])
    check_jobs_ran_once(f"kill -9 of {victims}", jobs)
    bring_back()


def kill_files_replica():
    content = os.urandom(24 << 20)
    metadata = "filename " + base64.b64encode(b"resumed.bin").decode()
    status, headers, _ = call("POST", "files/uploads/", headers={**TUS, "Upload-Length": str(len(content)), "Upload-Metadata": metadata})
    check("a tus upload is created", status == 201)
    upload_id = headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    sent = direct_patch_until_killed(1, upload_id, content)
    check("the PATCH was cut by the kill", 0 < sent < len(content), sent)
    # Uploads through the gateway while one files replica is dead.
    uploads = [(multipart_upload(f"meanwhile-{i}.bin", data), hashlib.md5(data).hexdigest())
               for i, data in enumerate(os.urandom(256 << 10) for _ in range(5))]
    check("uploads while a files replica is dead succeed", all(file_id for file_id, _ in uploads), uploads)
    resumed_at = resume_through_gateway(upload_id, content)
    check("the cut upload resumes through the other replica", resumed_at is not None)
    status, _, downloaded = call("GET", f"files/{upload_id}/contents/")
    check("the resumed upload has the MD5 of what was sent",
          status == 200 and hashlib.md5(downloaded).hexdigest() == hashlib.md5(content).hexdigest(), status)
    print(f"tus upload cut at {sent >> 20} MiB sent, resumed from {(resumed_at or 0) >> 20} MiB")
    bring_back()


def kill_status_replica():
    os.kill(pid("status-1"), signal.SIGKILL)
    wait_exit(pid("status-1"))
    latencies = []
    for _ in range(7):
        job = {"name": "long-poll", "jobanalyses": [{"analysis": {"code": "user_included", "version": "0"}, "command": "true",
               "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1}}]}
        status, _, body = call("POST", "jobs/", json.dumps(job).encode(), {"Content-Type": "application/json"})
        job_id = json.loads(body)["id"]
        woken = {}

        def long_poll():
            woken["status"], _, woken["body"] = call("GET", f"jobs/{job_id}/statuses/?wait=30")
            woken["at"] = time.time()

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.5)
        call("POST", f"jobs/{job_id}/submit/")
        poller.join()
        results = json.loads(woken["body"])["results"] if woken["status"] == 200 else []
        if results:
            event = datetime.datetime.fromisoformat(results[-1]["statusDate"].replace("Z", "+00:00")).timestamp()
            latencies.append((woken["at"] - event) * 1000)
    check("every long-poll woke with the event", len(latencies) == 7, latencies)
    median = statistics.median(latencies) if latencies else float("inf")
    print(f"long-poll wake after an event, status-1 dead: median {median:.1f} ms, max {max(latencies or [0]):.1f} ms")
    check("long-polls wake within 50 ms of an event (median)", median <= 50, latencies)
    bring_back()


def load_with_restarts(clients=50):
    stop = threading.Event()
    lock = threading.Lock()
    totals = {"requests": 0, "errors": 0}
    failures = {}  # HTTP status (0: no answer) -> count
    uploads, jobs = [], []

    def count(ok):
        with lock:
            totals["requests"] += 1
            if not ok:
                totals["errors"] += 1
                failures[last_call.status] = failures.get(last_call.status, 0) + 1

    def client():
        while not stop.is_set():
            choice = random.random()
            if choice < 0.3:
                data = os.urandom(64 << 10)
                file_id = multipart_upload("load.bin", data)
                count(file_id is not None)
                if file_id:
                    with lock:
                        uploads.append((file_id, hashlib.md5(data).hexdigest()))
            elif choice < 0.5:
                job_id, token = marked_job()
                count(job_id is not None)
                if job_id:
                    with lock:
                        jobs.append((job_id, token))
            else:
                status, _, _ = call("GET", "jobs/statuses/?page_size=5")
                count(status == 200)

    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    started = time.time()
    for service in ("files", "catalog", "status", "jobs"):
        for replica in (1, 2):
            time.sleep(2)
            name = f"{service}-{replica}"
            process_id = pid(name)
            os.kill(process_id, signal.SIGTERM)
            wait_exit(process_id)
            bring_back()
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.time() - started
    rate = 100.0 * totals["errors"] / max(totals["requests"], 1)
    print(f"load: {clients} clients, {totals['requests']} requests in {elapsed:.0f} s while 8 replicas restarted in turn: "
          f"{totals['errors']} failed ({rate:.2f} %, by status {failures}), {len(uploads)} uploads, {len(jobs)} jobs")
    lost = []
    for file_id, md5 in uploads:
        status, _, body = call("GET", f"files/{file_id}/")
        if status != 200 or json.loads(body).get("md5") != md5:
            lost.append(file_id)
    check("no uploaded file lost (each listed with its MD5)", not lost, lost)
    sample = random.sample(uploads, min(20, len(uploads)))
    mismatched = [f for f, md5 in sample if hashlib.md5(call("GET", f"files/{f}/contents/")[2]).hexdigest() != md5]
    check("uploaded files read back whole", not mismatched, mismatched)
    check_jobs_ran_once("jobs submitted under load", jobs, seconds=300)


def outbox_bounded():
    """Delivered outbox rows are pruned to the last 1 000 (jobs' OutboxRelay, every 30 s)."""
    def count(sql):
        return int(subprocess.run(
            ["runuser", "-u", "postgres", "--", "psql", "-X", "-h", f"{DATA}/postgres", "-p", os.environ["SIMFORGE_PG_PORT"],
             "-U", "postgres", "-d", "simforge", "-Atc", sql], check=True, capture_output=True, text=True).stdout)
    # A slow machine's load test may have made fewer: more, until over 1 000 have run.
    missing = 1001 - count("SELECT count(*) FROM jobs.jobs")
    if missing > 0:
        with ThreadPoolExecutor(max_workers=10) as pool:
            added = list(pool.map(lambda _: submit("true", name="top-up"), range(missing)))
        wait_ended([job_id for job_id in added if job_id], seconds=300)
    # Each replica's relay prunes every 30 s: the tail is back to its bound within that.
    deadline = time.time() + 45
    rows = count("SELECT count(*) FROM jobs.outbox")
    while rows > 1100 and time.time() < deadline:
        time.sleep(1)
        rows = count("SELECT count(*) FROM jobs.outbox")
    jobs = count("SELECT count(*) FROM jobs.jobs")
    print(f"outbox: {rows} rows after {jobs} jobs")
    check("over 1 000 jobs ran", jobs > 1000, jobs)
    check("the outbox keeps a bounded tail", rows <= 1100, rows)


for scenario in (exactly_once, kill_jobs_replica, kill_files_replica, kill_status_replica, load_with_restarts, outbox_bounded):
    began = time.time()
    scenario()
    print(f"{scenario.__name__}: done in {time.time() - began:.0f} s")
print(f"replicas.py: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
