#!/usr/bin/env bash
# The catalog through the gateway, as a user sees it, against a running stack
# (deploy/run-local.sh). Reads .data/local.env (or $SIMFORGE_ENV). Exits non-zero if any
# check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh

auth=(-H "Authorization: Token $SIMFORGE_TOKEN")

request "$SIMFORGE_URL" "${auth[@]}"
check "API root answers 200" [ "$status" = 200 ]
check "API root links analyses under the user's prefix" [ "$(json "d['analyses']")" = "${SIMFORGE_URL}analyses/" ]

# page_size=1: following next reaches every analysis exactly once.
url="${SIMFORGE_URL}analyses/?page_size=1"
codes=()
while [ "$url" != None ]; do
    request "$url" "${auth[@]}"
    check "analyses page answers 200 ($url)" [ "$status" = 200 ]
    codes+=("$(json "d['results'][0]['code']")")
    count=$(json "d['count']")
    url=$(json "d['next']")
done
check "following next visits count=$count analyses" [ "${#codes[@]}" = "$count" ]
check "the analyses are distinct" [ "$(printf '%s\n' "${codes[@]}" | sort -u | wc -l)" = "$count" ]
check "openfoam is offered" grep -qx openfoam <(printf '%s\n' "${codes[@]}")

request "${SIMFORGE_URL}coretypes/" "${auth[@]}"
check "core types answer 200" [ "$status" = 200 ]
check "nine core types" [ "$(json "d['count']")" = 9 ]

request "${SIMFORGE_URL}analyses/no-such-solver/" "${auth[@]}"
check "unknown analysis is 404" [ "$status" = 404 ]
check "404 body has a detail" [ "$(json "'detail' in d")" = True ]

request "${SIMFORGE_URL}analyses/"
check "no token is 401" [ "$status" = 401 ]
request "${SIMFORGE_URL}analyses/" -H "Authorization: Token wrong-$SIMFORGE_TOKEN"
check "a wrong token is 401" [ "$status" = 401 ]
request "${SIMFORGE_URL}analyses/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "user 2's token on user 1's prefix is 403" [ "$status" = 403 ]

catalog_url=$(echo "$SIMFORGE_URL" | sed -E "s#^http://[^/]+#http://127.0.0.1:${SIMFORGE_CATALOG_PORT:-8082}#")
request "${catalog_url}analyses/"
check "a direct call to catalog without consumer headers is 401" [ "$status" = 401 ]

summary catalog.sh
