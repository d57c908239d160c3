#!/usr/bin/env python3
"""deploy/openapi.yaml against the running services, through the gateway.

First validates the document itself (openapi-spec-validator). Then calls every documented
operation the way a client does (and its error cases: 400, 401, 403, 404, 409, 412, 415)
and checks each answer against the document: the status code is one the operation lists,
a JSON body validates against that response's schema, required response headers are
there, and every response carries X-Request-ID. At the end every operation must have
answered one of its documented successes at least once. Job execution is not awaited:
job routes are checked for their shapes, not for what a run produced.

Needs a running stack (deploy/run-local.sh); reads .data/local.env (or $SIMFORGE_ENV).
Needs PyYAML and openapi-spec-validator (`python3 -m pip install openapi-spec-validator`;
.ci/run installs it).
"""
import base64
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid

import yaml

try:
    from openapi_spec_validator import validate as validate_spec
    from openapi_schema_validator import OAS30Validator
except ImportError:
    sys.exit("openapi-check: needs openapi-spec-validator (python3 -m pip install openapi-spec-validator)")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_env(path):
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name] = value
    return values


ENV = load_env(os.environ.get("SIMFORGE_ENV") or os.path.join(ROOT, ".data", "local.env"))
BASE = ENV["SIMFORGE_URL"]  # http://host:port/{userId}/api/v2/
TOKEN = ENV["SIMFORGE_TOKEN"]
OTHER_TOKEN = ENV["SIMFORGE_TOKEN2"]

with open(os.path.join(ROOT, "deploy", "openapi.yaml")) as handle:
    SPEC = yaml.safe_load(handle)

passed = 0
failed = 0
exercised = {}  # (method, path template) -> set of status codes seen


def check(description, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {description}" + (f" ({detail})" if detail else ""), file=sys.stderr)
    return condition


def template_regex(template):
    # A documented path template as a regex over the path after the API base; `path`
    # (tail) may contain slashes, other parameters are one segment.
    pattern = re.escape(template.lstrip("/"))
    pattern = pattern.replace(r"\{path\}", r"(?P<path>.+)")
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile("^" + pattern + "$")


# Literal paths before parameterized ones (jobs/statuses/ is not jobs/{id}/).
TEMPLATES = [(template, template_regex(template))
             for template in sorted(SPEC["paths"], key=lambda t: (t.count("{"), -len(t)))]


def operation_for(method, relative):
    for template, regex in TEMPLATES:
        if regex.match(relative):
            operation = SPEC["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None, None


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def validate_body(schema, instance):
    # The schema's references point into the document: validate with its components beside it.
    wrapper = {"allOf": [schema], "components": SPEC["components"]}
    errors = sorted(OAS30Validator(wrapper).iter_errors(instance), key=lambda e: list(e.path))
    return "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:3])


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def call(method, relative, *, token=TOKEN, headers=None, body=None, expect=None, base=BASE):
    """One request to BASE + relative, checked against the document; returns the Response."""
    request = urllib.request.Request(base + relative, data=body, method=method)
    if token is not None:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=90) as answer:
            response = Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        response = Response(error.code, error.headers, error.read())

    relative_path = relative.split("?", 1)[0]
    name = f"{method} {relative}"
    template, operation = operation_for(method, relative_path)
    if not check(f"{name}: documented", operation is not None):
        return response
    exercised.setdefault((method.lower(), template), set()).add(response.status)
    if expect is not None:
        allowed = expect if isinstance(expect, (list, tuple, set)) else [expect]
        check(f"{name}: answers {allowed}", response.status in allowed, f"got {response.status}: {response.body[:200]!r}")
    documented = resolve(operation["responses"]).get(str(response.status))
    if not check(f"{name}: status {response.status} is documented", documented is not None,
                 f"documented: {sorted(operation['responses'])}"):
        return response
    documented = resolve(documented)
    check(f"{name}: X-Request-ID", bool(response.headers.get("X-Request-ID")))
    for header, spec in (documented.get("headers") or {}).items():
        if resolve(spec).get("required"):
            check(f"{name}: header {header}", response.headers.get(header) is not None)
    content = documented.get("content") or {}
    media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
    # Where a response has several media types (a tail: raw bytes or JSON lines), the
    # one the service sent must be documented, and a JSON one validates.
    if content and len(content) > 1:
        check(f"{name}: media type {media_type} is documented", media_type in content, f"documented: {sorted(content)}")
    json_content = content.get("application/json") if len(content) == 1 or media_type == "application/json" else None
    if json_content and method != "HEAD":
        try:
            instance = json.loads(response.body)
        except ValueError:
            check(f"{name}: JSON body", False, repr(response.body[:200]))
        else:
            problems = validate_body(json_content["schema"], instance)
            check(f"{name}: body matches the schema", not problems, problems)
    elif not content:
        check(f"{name}: no body", method == "HEAD" or len(response.body) == 0, repr(response.body[:100]))
    return response


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: text/plain\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main():
    try:
        validate_spec(SPEC)
        check("deploy/openapi.yaml is a valid OpenAPI document", True)
    except Exception as error:  # noqa: BLE001 - any validation failure is reported the same way
        check("deploy/openapi.yaml is a valid OpenAPI document", False, str(error)[:300])

    json_headers = {"Content-Type": "application/json"}
    tus = {"Tus-Resumable": "1.0.0"}

    # API root, and the gateway's refusals.
    call("GET", "", expect=200)
    call("GET", "", token=None, expect=401)
    call("GET", "analyses/", token="not-a-token", expect=401)
    call("GET", "analyses/", token=OTHER_TOKEN, expect=403)

    # Catalog.
    call("GET", "analyses/?page_size=2", expect=200)
    call("GET", "analyses/?page=999", expect=404)
    call("GET", "analyses/openfoam/", expect=200)
    call("GET", "analyses/no-such-analysis/", expect=404)
    call("GET", "coretypes/?isActive=true", expect=200)
    call("GET", "coretypes/?isActive=maybe", expect=400)
    call("GET", "coretypes/standard/", expect=200)
    call("GET", "coretypes/no-such-type/", expect=404)

    # Files: multipart uploads, list, read, change, download, lines, delete.
    body, content_type = multipart({"typeId": "1"}, {"file": ("openapi-hello.txt", b"hello\nopenapi\n")})
    uploaded = call("POST", "files/contents/", headers={"Content-Type": content_type}, body=body, expect=201)
    file_id = uploaded.json()["id"]
    body, content_type = multipart({}, {"file": ("alias.txt", b"alias")})
    alias_id = call("POST", "files/content/", headers={"Content-Type": content_type}, body=body, expect=201).json()["id"]
    # The python SDK uploads with PUT.
    for path in ("files/contents/", "files/content/"):
        body, content_type = multipart({}, {"file": ("put.txt", b"put")})
        put_id = call("PUT", path, headers={"Content-Type": content_type}, body=body, expect=201).json()["id"]
        call("DELETE", f"files/{put_id}/", expect=204)
    call("POST", "files/contents/", headers=json_headers, body=b"{}", expect=415)
    body, content_type = multipart({"typeId": "1"}, {})
    call("POST", "files/contents/", headers={"Content-Type": content_type}, body=body, expect=400)
    call("GET", "files/?search=openapi-hello", expect=200)
    call("GET", "files/?typeId=x", expect=400)
    call("GET", f"files/{file_id}/", expect=200)
    call("GET", "files/NoSuchFile1/", expect=404)
    call("PATCH", f"files/{file_id}/", headers=json_headers, body=json.dumps({"name": "openapi-renamed.txt"}).encode(), expect=200)
    call("PATCH", f"files/{file_id}/", headers=json_headers, body=json.dumps({"typeId": 6}).encode(), expect=400)
    call("PATCH", f"files/{file_id}/", headers=json_headers, body=b"not json", expect=400)
    download = call("GET", f"files/{file_id}/contents/", expect=200)
    check("download returns the bytes", download.body == b"hello\nopenapi\n")
    call("GET", f"files/{file_id}/contents/", headers={"Range": "bytes=0-4"}, expect=206)
    call("GET", f"files/{file_id}/contents/", headers={"Range": "bytes=100-200"}, expect=416)
    lines = call("GET", f"files/{file_id}/lines/?lines=1", expect=200)
    check("the last line", lines.json().get("lines") == ["openapi"], lines.body[:100])
    call("GET", f"files/{file_id}/lines/?lines=x", expect=400)
    call("DELETE", f"files/{alias_id}/", expect=204)
    call("DELETE", f"files/{alias_id}/", expect=404)

    # Resumable uploads (tus): create, offset, append, complete; terminate another.
    metadata = "filename " + base64.b64encode(b"tus.txt").decode()
    created = call("POST", "files/uploads/", headers={**tus, "Upload-Length": "5", "Upload-Metadata": metadata}, expect=201)
    location = created.headers.get("Location", "")
    upload_id = location.rstrip("/").rsplit("/", 1)[-1]
    check("Location points at files/uploads/{id}", location.startswith(BASE + "files/uploads/"), location)
    head = call("HEAD", f"files/uploads/{upload_id}", expect=200)
    check("a new upload is at offset 0", head.headers.get("Upload-Offset") == "0")
    call("PATCH", f"files/uploads/{upload_id}", headers={**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "3"},
         body=b"hello", expect=409)
    call("PATCH", f"files/uploads/{upload_id}", headers={**tus, "Content-Type": "text/plain", "Upload-Offset": "0"}, body=b"hello", expect=415)
    appended = call("PATCH", f"files/uploads/{upload_id}",
                    headers={**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}, body=b"hello", expect=204)
    check("the offset after the last byte", appended.headers.get("Upload-Offset") == "5")
    done = call("GET", f"files/{upload_id}/", expect=200)
    check("the finished upload is an uploaded File", done.json().get("isUploaded") is True and done.json().get("name") == "tus.txt")
    call("HEAD", "files/uploads/NoSuchUpload1", expect=404)
    call("POST", "files/uploads/", headers={"Upload-Length": "5"}, expect=412)
    call("POST", "files/uploads/", headers={**tus}, expect=400)
    other = call("POST", "files/uploads/", headers={**tus, "Upload-Length": "10"}, expect=201)
    other_id = other.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
    call("DELETE", f"files/uploads/{other_id}", headers=tus, expect=204)
    call("DELETE", f"files/uploads/{upload_id}", headers=tus, expect=409)

    # Jobs: create, list, read, change, submit, runs, statuses, output files, tail, stop, delete.
    job = {
        "name": "openapi-check",
        "jobanalyses": [{
            "analysis": {"code": "user_included", "version": "0"},
            "command": "cat openapi-renamed.txt",
            "hardware": {"coreType": "standard", "coresPerSlot": 1, "slots": 1},
            "inputFiles": [{"id": file_id}],
        }],
    }
    created_job = call("POST", "jobs/", headers=json_headers, body=json.dumps(job).encode(), expect=201)
    job_id = created_job.json()["id"]
    bad = json.loads(json.dumps(job))
    bad["jobanalyses"][0]["hardware"]["coreType"] = "no-such-type"
    invalid = call("POST", "jobs/", headers=json_headers, body=json.dumps(bad).encode(), expect=400)
    check("a field error names the field", "jobanalyses" in invalid.body.decode(errors="replace"), invalid.body[:200])
    call("POST", "jobs/", headers=json_headers, body=b"{not json", expect=400)
    call("GET", "jobs/", expect=200)
    call("GET", "jobs/?state=bogus", expect=400)
    call("GET", f"jobs/{job_id}/", expect=200)
    call("GET", "jobs/NoSuchJob1/", expect=404)
    job["name"] = "openapi-check-renamed"
    call("PATCH", f"jobs/{job_id}/", headers=json_headers, body=json.dumps(job).encode(), expect=200)
    # A created job is registered with status before create answers: an empty history.
    created_history = call("GET", f"jobs/{job_id}/statuses/", expect=200)
    check("a created job's history is empty", created_history.json().get("count") == 0)
    call("POST", f"jobs/{job_id}/submit/", expect=200)
    call("POST", f"jobs/{job_id}/submit/", expect=200)
    call("POST", "jobs/NoSuchJob1/submit/", expect=404)
    call("PATCH", f"jobs/{job_id}/", headers=json_headers, body=json.dumps(job).encode(), expect=409)
    statuses = call("GET", f"jobs/{job_id}/statuses/", expect=200)
    check("Pending is in the history after submit", any(s.get("status") == "Pending" for s in statuses.json().get("results", [])))
    call("GET", f"jobs/{job_id}/statuses/?wait=100", expect=400)
    call("GET", f"jobs/{job_id}/statuses/?after=yesterday", expect=400)
    call("GET", "jobs/NoSuchJob1/statuses/", expect=404)
    call("GET", "jobs/statuses/?page_size=5", expect=200)
    call("GET", "jobs/statuses/?wait=0&after=2000-01-01T00:00:00.000000Z", expect=200)
    call("GET", f"jobs/{job_id}/runs/", expect=200)
    call("GET", f"jobs/{job_id}/runs/1/", expect=200)
    call("GET", f"jobs/{job_id}/runs/99/", expect=404)
    call("GET", f"jobs/{job_id}/files/", expect=200)
    call("GET", f"jobs/{job_id}/runs/1/files/", expect=200)
    # Whether the run still executes depends on the compute backend: any documented answer.
    call("GET", f"jobs/{job_id}/runs/1/tail/process_output.log?lines=5")
    # A job that runs long enough to be stopped, whether it is still Pending (no compute
    # backend), Queued or executing; the first one may have completed already.
    sleeper = json.loads(json.dumps(job))
    sleeper["jobanalyses"][0]["command"] = "sleep 120"
    sleeper_id = call("POST", "jobs/", headers=json_headers, body=json.dumps(sleeper).encode(), expect=201).json()["id"]
    call("POST", f"jobs/{sleeper_id}/submit/", expect=200)
    call("GET", f"jobs/{sleeper_id}/cluster_statuses/", expect=200)
    call("GET", "jobs/NoSuchJob1/cluster_statuses/", expect=404)
    # Its run's working directory, once the run has one (409 until then).
    for _ in range(100):
        listing = call("GET", f"jobs/{sleeper_id}/runs/1/directory-contents/", expect=[200, 409])
        if listing.status == 200 and any(e.get("path") == "process_output.log" for e in listing.json()):
            break
        time.sleep(0.2)
    call("GET", f"jobs/{sleeper_id}/runs/1/tail/process_output.log", expect=200)
    call("GET", f"jobs/{sleeper_id}/runs/1/tail/process_output.log?lines=2", expect=200)
    call("GET", f"jobs/{sleeper_id}/runs/1/tail/no-such-file", expect=404)
    call("GET", f"jobs/{sleeper_id}/runs/7/directory-contents/", expect=404)
    call("POST", f"jobs/{sleeper_id}/runs/7/stop/", expect=404)
    call("POST", f"jobs/{sleeper_id}/runs/1/stop/", expect=202)
    call("POST", f"jobs/{sleeper_id}/stop/", expect=[202, 409])
    call("POST", f"jobs/{job_id}/stop/", expect=[202, 409])
    call("POST", "jobs/NoSuchJob1/stop/", expect=404)
    # A sweep: a parameter file's rows and a template; then two generated variables.
    body, content_type = multipart({}, {"file": ("sweep.csv", b"speed,label\n1,a\n2,b\n")})
    csv_id = call("POST", "files/contents/", headers={"Content-Type": content_type}, body=body, expect=201).json()["id"]
    body, content_type = multipart({}, {"file": ("sweep.template", b"speed ${speed} ${label}\n")})
    template_id = call("POST", "files/contents/", headers={"Content-Type": content_type}, body=body, expect=201).json()["id"]
    sweep = json.loads(json.dumps(job))
    sweep["paramFile"] = {"id": csv_id}
    sweep["jobanalyses"][0]["templateTasks"] = [{"templateFile": {"id": template_id}, "processedFilename": "in/sweep.txt"}]
    sweep_id = call("POST", "jobs/", headers=json_headers, body=json.dumps(sweep).encode(), expect=201).json()["id"]
    call("GET", f"jobs/{sweep_id}/runs/?page_size=1", expect=200)
    call("GET", f"jobs/{sweep_id}/runs/2/", expect=200)
    generated = json.loads(json.dumps(job))
    generated["jobvariables"] = [
        {"name": "x", "variableType": "Param", "valueGeneratorType": "FixedRange",
         "valueGeneratorSettings": {"minvalue": 1, "maxvalue": 3, "increment": 1}},
        {"name": "y", "valueGeneratorType": "Normal", "valueGeneratorSettings": {"mean": 0, "stddev": 1}},
    ]
    generated["monteCarloIterations"] = 2
    generated_id = call("POST", "jobs/", headers=json_headers, body=json.dumps(generated).encode(), expect=201).json()["id"]
    call("GET", f"jobs/{generated_id}/runs/", expect=200)
    generated["jobvariables"][0]["valueGeneratorSettings"]["increment"] = 0
    call("POST", "jobs/", headers=json_headers, body=json.dumps(generated).encode(), expect=400)
    for created in (sweep_id, generated_id):
        call("DELETE", f"jobs/{created}/", expect=204)
    for created in (csv_id, template_id):
        call("DELETE", f"files/{created}/", expect=204)
    spare = call("POST", "jobs/", headers=json_headers, body=json.dumps(job).encode(), expect=201).json()["id"]
    call("DELETE", f"jobs/{spare}/", expect=204)
    call("DELETE", f"jobs/{spare}/", expect=404)
    call("DELETE", f"files/{file_id}/", expect=204)

    # Every documented operation answered one of its successes at least once; the tail of
    # a run's file needs a run that is executing, so any documented answer counts for it.
    for template, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "delete", "head", "put"):
                continue
            wanted = {int(code) for code in operation["responses"] if code.startswith("2")}
            if "/tail/" in template:
                wanted = {int(code) for code in operation["responses"]}
            seen = exercised.get((method, template), set())
            check(f"{method.upper()} {template}: exercised with a documented success", seen & wanted,
                  f"seen {sorted(seen)}, wanted one of {sorted(wanted)}")

    print(f"openapi-check: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
