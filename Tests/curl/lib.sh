# Helpers of the curl checks (source this file): `request URL [curl args...]` sets $status
# and $body; `json EXPR` evaluates a Python expression over the body as `d`; `check
# DESCRIPTION COMMAND...` counts a passed or failed check; `summary NAME` prints the
# closing line and fails if any check failed.
passed=0
failed=0

check() {
    local description=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $description (last response: ${status:-none} ${body:0:400})" >&2
    fi
}

request() {
    local url=$1 out
    shift
    out=$(curl -sS -w '\n%{http_code}' "$@" "$url")
    status=${out##*$'\n'}
    body=${out%$'\n'*}
}

json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$body" "$1"; }

summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" = 0 ]
}
