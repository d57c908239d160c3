#!/usr/bin/env python3
"""Real Rescale clients against the running stack, through the gateway.

1. rescalepy (PyPI, the version pinned in .ci/run), unchanged: its Client uploads a folder
   (zipped by the SDK, sent with its odd part type), finds the newest version and the
   cheapest core type, creates a job with a project, submits it, waits on the statuses and
   downloads every output by `relativePath`; its BatchRunner runs two folders with a common
   file and downloads the results it names.
2. The requests of Rescale's python-sdk examples (github.com/rescale/python-sdk; that SDK is
   not on PyPI), made the way its RescaleConnect makes them: `PUT files/contents/`, JSON
   content type on every call, pages of 100 followed by `next`. The DOE example (ten runs of
   a FixedRange variable, its template run as `./run_fmm`, outputs rebuilt with
   `path.split('/')[4:]`), the regression example (tar.gz inputs, a post-processing script
   uploaded as a plain input and run as `./compare_results.sh`, exactly one
   `process_output.log`), and the job cloner's GET-then-POST of a whole job.

Only the address is changed: rescalepy's ENDPOINT is set to this stack's, and its one call
with a hard-coded host (add_job_to_project PATCHes https://platform.rescale.com/api/v2/)
is pointed here too. Needs a running stack (deploy/run-local.sh) and `pip install
rescalepy`; reads .data/local.env (or $SIMFORGE_ENV).
"""
import io
import json
import os
import signal
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parents[2]


def load_env(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


ENV = load_env(os.environ.get("SIMFORGE_ENV") or ROOT / ".data" / "local.env")
BASE = ENV["SIMFORGE_URL"]  # http://host:port/{userId}/api/v2/
TOKEN = ENV["SIMFORGE_TOKEN"]
RESCALE = "https://platform.rescale.com/api/v2/"

passed = 0
failed = 0


def check(description, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {description}" + (f" ({detail})" if detail else ""), file=sys.stderr)
    return condition


class TimeLimit:
    """Fails the flow in hand after `seconds` (the SDKs' wait loops never give up)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def expired(signum, frame):
            raise TimeoutError(f"no answer within {self.seconds} s")
        signal.signal(signal.SIGALRM, expired)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)


def flow(function):
    """Runs one client flow; an exception fails it with its message and the rest go on."""
    def run():
        try:
            with TimeLimit(240):
                function()
        except Exception as error:  # noqa: BLE001 - any failure of the flow is reported
            check(f"{function.__name__} ran to its end", False, f"{type(error).__name__}: {error}")
    return run


# --- 1. rescalepy --------------------------------------------------------------------------

import rescalepy.batch
import rescalepy.client

rescalepy.client.ENDPOINT = BASE
_patch = requests.patch


def _patch_here(url, *args, **kwargs):
    return _patch(url.replace(RESCALE, BASE), *args, **kwargs)


rescalepy.client.requests.patch = _patch_here


@flow
def rescalepy_client():
    try:
        rescalepy.client.Client(api_token="not-a-token")
        check("rescalepy refuses a wrong token", False)
    except ValueError:
        check("rescalepy refuses a wrong token", True)
    client = rescalepy.client.Client(api_token=TOKEN)
    versions = [a for a in client.list_analyses() if a["code"] == "user_included"][0]["versions"]
    check("the newest version comes first", client.get_latest_software_version("user_included") == versions[0]["versionCode"])
    cheapest = client.get_cheapest_core()
    check("the cheapest core type is one of the catalog's", cheapest in [c["code"] for c in client.get_core_types()])

    with tempfile.TemporaryDirectory() as scratch:
        case = Path(scratch) / "case"
        (case / "data").mkdir(parents=True)
        (case / "data" / "numbers.txt").write_text("3\n4\n")
        (case / "run.sh").write_text("#!/bin/sh\nmkdir -p out && awk '{s+=$1*$1} END {print s}' data/numbers.txt > out/sum.txt\n")
        (case / "run.sh").chmod(0o755)
        uploaded = client.upload(case)
        check("a folder is uploaded as its zip", uploaded.name == "case.zip", repr(uploaded))

        job_id = client.create_job("rescalepy job", "user_included", [uploaded], "cd case && ./run.sh",
                                   core_type=cheapest, project_id="wind-tunnel", n_cores=1, wall_time=1)
        check("the job's project was set", client.get_job_details(job_id)["projectId"] == "wind-tunnel")
        check("the job is submitted", client.submit_job(job_id))
        client.wait_for_job(job_id, interval=1)
        newest = client.get_job_status(job_id)[0]
        check("the job completed successfully", newest["statusReason"] == "Completed successfully", repr(newest))
        names = sorted(f["relativePath"] for f in client.list_job_results_files(job_id))
        check("its outputs are listed by relative path", "case/out/sum.txt" in names and "process_output.log" in names, repr(names))
        results = Path(scratch) / "results"
        client.download_all_results(job_id, results)
        check("download_all_results rebuilds the tree", (results / "case" / "out" / "sum.txt").read_text() == "25\n")


@flow
def rescalepy_batch():
    client = rescalepy.client.Client(api_token=TOKEN)
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # the BatchRunner keeps its state in ./rescale.json
        try:
            batch_of_two_folders(client, Path(scratch))
        finally:
            os.chdir(ROOT)


def batch_of_two_folders(client, scratch):
    common = scratch / "scale.txt"
    common.write_text("10\n")
    folders = []
    for number in (1, 2):
        folder = scratch / f"run_{number}"
        folder.mkdir()
        (folder / "input.txt").write_text(f"{number}\n")
        folders.append(folder)
    runner = rescalepy.batch.BatchRunner(
        client=client, software_code="user_included", input_files="*.txt",
        command="echo $(( $(cat input.txt) * $(cat scale.txt) )) > answer.txt",
        download_patterns=["answer.txt"], core_type=client.get_cheapest_core(),
        common_files=[common], poll_interval=1, download_delay=0, clear_state=True)
    runner.run(folders)
    state = json.loads((scratch / "rescale.json").read_text())
    check("every batch job completed and was downloaded",
          all(job["status"] == "completed" and job["downloaded"] for job in state["jobs"].values()), repr(state))
    for number, folder in zip((1, 2), folders):
        answer = folder / "answer.txt"
        check(f"batch folder {number} got its answer", answer.exists() and answer.read_text() == f"{number * 10}\n")


# --- 2. python-sdk's requests ------------------------------------------------------------


class RescaleConnect:
    """The python-sdk's transport (rescale/client.py): a JSON content type on every call
    without files, errors raised, pages of 100 followed by `next`."""

    def request(self, method, path, data=None, files=None, stream=False):
        headers = {"Authorization": "Token " + TOKEN}
        if not files:
            headers["Content-Type"] = "application/json"
        response = requests.request(method, urljoin(BASE, path), headers=headers, data=data, files=files, stream=stream)
        response.raise_for_status()
        return response

    def paginate(self, path):
        url = path + ("&" if "?" in path else "?") + "page_size=100"
        while url:
            page = self.request("GET", url).json()
            yield from page.get("results", page.get("result"))
            url = page["next"] and urljoin(BASE, page["next"])

    def upload(self, path):
        with open(path, "rb") as handle:
            return self.request("PUT", "files/contents/", files={"file": handle}).json()

    def wait(self, job_id):
        while True:
            statuses = list(self.paginate(f"jobs/{job_id}/statuses/"))
            if statuses and statuses[0]["status"] == "Completed":
                return statuses[0]
            time.sleep(1)

    def download(self, file_id, target):
        with open(target, "wb") as handle:
            for chunk in self.request("GET", f"files/{file_id}/contents/", stream=True).iter_content(8192):
                handle.write(chunk)


def zip_of(name, text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def tgz_of(files):
    """A .tar.gz of {path: (text, mode)}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, (text, mode) in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@flow
def python_sdk_doe():
    sdk = RescaleConnect()
    with tempfile.TemporaryDirectory() as scratch:
        inputs = Path(scratch) / "input"
        inputs.mkdir()
        (inputs / "run_fmm").write_text('#!/bin/bash\n\nindex=$( printf "%.0f" ${index} )\n\n'
                                        "mkdir -p dir/subdir\necho results > dir/subdir/output.$index.txt\n")
        (inputs / "hello.txt.zip").write_bytes(zip_of("hello.txt", "hello\n"))
        (inputs / "world.txt.zip").write_bytes(zip_of("world.txt", "world\n"))
        template = sdk.upload(inputs / "run_fmm")
        input_files = [sdk.upload(inputs / name) for name in ("hello.txt.zip", "world.txt.zip")]

        body = json.loads((ROOT / "Tests/Fixtures/rescale/requests/doe-job-python-sdk.json").read_text())
        analysis = body["jobanalyses"][0]
        analysis["command"] = "./{command}".format(command=template["name"])
        analysis["templateTasks"] = [{"processedFilename": template["name"], "templateFile": {"id": template["id"]}}]
        analysis["inputFiles"] = [{"id": f["id"]} for f in input_files]
        job = sdk.request("POST", "jobs/", data=json.dumps(body)).json()
        sdk.request("POST", f"jobs/{job['id']}/submit/")
        completed = sdk.wait(job["id"])
        check("the DOE job's ten runs succeeded", completed["statusReason"] == "10 of 10 runs succeeded", repr(completed))

        output = Path(scratch) / "output"
        for file in sdk.paginate(f"jobs/{job['id']}/files/"):
            file_path = os.path.join(output, *file["path"].split("/")[4:])
            os.makedirs(os.path.dirname(file_path), exist_ok=True)
            sdk.download(file["id"], file_path)
        for index in range(1, 11):
            result = output / f"run{index}" / "dir" / "subdir" / f"output.{index}.txt"
            check(f"run {index}'s output is in output/run{index}/", result.exists() and result.read_text() == "results\n")


@flow
def python_sdk_regression():
    sdk = RescaleConnect()
    with tempfile.TemporaryDirectory() as scratch:
        inputs = Path(scratch) / "inputs"
        inputs.mkdir()
        (inputs / "all_tests.tar.gz").write_bytes(tgz_of({
            "test1/input.txt": ("same\n", 0o644), "test1/expected.txt": ("same\n", 0o644),
            "test2/input.txt": ("new\n", 0o644), "test2/expected.txt": ("old\n", 0o644),
        }))
        (inputs / "echoware0.1.tar.gz").write_bytes(tgz_of({
            "echoware/bin/echo.sh": ('#!/bin/sh\ncat "$1/input.txt" > "$1/output.txt"\n', 0o755),
        }))
        (inputs / "compare_results.sh").write_text(
            '#!/bin/bash\nCASE=$1\nDIFF=$(diff "$CASE/output.txt" "$CASE/expected.txt")\n'
            'if [ -n "$DIFF" ]; then echo "FAILURE $CASE"; else echo "SUCCESS $CASE"; fi\n')
        tests, echoware, compare = (sdk.upload(inputs / name) for name in ("all_tests.tar.gz", "echoware0.1.tar.gz", "compare_results.sh"))
        loop = '\n    for testcase in $(find . -name "test[0-9]*" -type d | sort); do\n        {}\n    done\n    '
        job = sdk.request("POST", "jobs/", data=json.dumps({
            "name": "echoware0.1-all-tests",
            "isLowPriority": True,
            "jobanalyses": [{
                "analysis": {"code": "user_included"},
                "hardware": {"coresPerSlot": 1, "slots": 1, "coreType": {"code": "standard-plus"}},
                "inputFiles": [{"id": tests["id"]}, {"id": echoware["id"]}],
                "command": loop.format("./echoware/bin/echo.sh $testcase"),
                "postProcessScript": {"id": compare["id"]},
                "postProcessScriptCommand": loop.format("./compare_results.sh $testcase"),
            }],
        })).json()
        sdk.request("POST", f"jobs/{job['id']}/submit/")
        completed = sdk.wait(job["id"])
        check("the regression job completed successfully", completed["statusReason"] == "Completed successfully", repr(completed))
        logs = [f for f in sdk.paginate(f"jobs/{job['id']}/files/?search=process_output.log") if f["name"] == "process_output.log"]
        check("the job has exactly one process_output.log", len(logs) == 1, repr(logs))
        log = Path(scratch) / "process_output.log"
        sdk.download(logs[0]["id"], log)
        text = log.read_text()
        check("the post-processing results are in process_output.log",
              "SUCCESS ./test1\n" in text and "FAILURE ./test2\n" in text, text[-400:])


@flow
def python_sdk_job_cloner():
    sdk = RescaleConnect()
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "input.zip"
        source.write_bytes(zip_of("greeting.txt", "hi\n"))
        uploaded = sdk.upload(source)
        template = {
            "jobanalyses": [{"analysis": {"code": "user_included"},
                             "command": "cat greeting.txt",
                             "flags": {}, "hardware": {"coresPerSlot": 1, "slots": 1, "coreType": {"code": "standard"},
                                                       "walltime": 1, "type": "compute"},
                             "inputFiles": [{"id": uploaded["id"]}], "onDemandLicenseSeller": None, "envVars": None}],
            "name": "to clone", "paramFile": None, "jobvariables": [], "isLowPriority": True, "isTemplateDryRun": False,
            "projectId": None, "inputFileParseTask": "", "archiveFilters": [],
        }
        original = sdk.request("POST", "jobs/", data=json.dumps(template)).json()
        # The cloner: GET the job, rename it and POST the whole answer back.
        clone = sdk.request("GET", f"jobs/{original['id']}/").json()
        clone["name"] = "the clone"
        created = sdk.request("POST", "jobs/", data=json.dumps(clone)).json()
        check("a job GET back as a POST body creates a copy",
              created["id"] != original["id"] and created["name"] == "the clone"
              and [f["id"] for f in created["jobanalyses"][0]["inputFiles"]] == [uploaded["id"]], repr(created))
        sdk.request("POST", f"jobs/{created['id']}/submit/")
        completed = sdk.wait(created["id"])
        check("the clone runs", completed["statusReason"] == "Completed successfully", repr(completed))
        for job_id in (original["id"], created["id"]):
            sdk.request("DELETE", f"jobs/{job_id}/")


for run in (rescalepy_client, rescalepy_batch, python_sdk_doe, python_sdk_regression, python_sdk_job_cloner):
    run()
print(f"clients.py: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
