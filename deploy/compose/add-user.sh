#!/usr/bin/env bash
# Adds a user of the API: a Kong consumer whose custom_id is the user id (the {userId} of
# the user's paths, /{userId}/api/v2/...) with a freshly generated key-auth key, the user's
# API token, which it prints (once: keep it, hand it to the user).
#
#   deploy/compose/add-user.sh [--file USERS_YML] USER_ID [USERNAME]
#
# USERS_YML defaults to deploy/compose/secrets/consumers.yml, which the compose stack's
# Kong loads at start: run `docker compose restart kong` afterwards. The same file format
# serves the dev gateway (GATEWAY_CONFIG=kong.yml,USERS_YML); for deploy/run-local.sh use
# --file .data/consumers.yml, then deploy/run-local.sh restart.
# To revoke a user, delete its entry from the file and restart Kong the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."

file=deploy/compose/secrets/consumers.yml
if [ "${1:-}" = --file ]; then
    file=$2
    shift 2
fi
fail() { echo "add-user: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: deploy/compose/add-user.sh [--file USERS_YML] USER_ID [USERNAME]"
user_id=$1
username=${2:-$1}

[[ "$user_id" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || fail "a user id is 1 to 64 of A-Z a-z 0-9 _ - (it is a path segment)"
[[ "$username" =~ ^[A-Za-z0-9_.@-]{1,128}$ ]] || fail "a username is 1 to 128 of A-Z a-z 0-9 _ . @ -"
[ "$username" != anonymous ] && [ "$user_id" != -anonymous- ] || fail "'anonymous' is reserved (kong.yml's stand-in for unknown tokens)"
[ "$user_id" != internal ] || fail "'internal' is reserved: /internal/ paths are never routed"
[ -f "$file" ] || fail "$file does not exist (deploy/compose/generate-env.sh creates it)"
grep -qE '^consumers:' "$file" || fail "$file has no 'consumers:' section"
if grep -qE "^[[:space:]]+custom_id:[[:space:]]*\"?${user_id}\"?[[:space:]]*\$" "$file"; then
    fail "user id '$user_id' already exists in $file"
fi
if grep -qE "^[[:space:]]+- username:[[:space:]]*\"?${username}\"?[[:space:]]*\$" "$file"; then
    fail "username '$username' already exists in $file"
fi

token=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
# `consumers: []` (an empty list written in flow style) becomes a block list.
sed -i -E 's/^consumers:[[:space:]]*\[\][[:space:]]*$/consumers:/' "$file"
cat >> "$file" <<YAML
  - username: "$username"
    custom_id: "$user_id"
    keyauth_credentials:
      - key: "$token"
YAML
echo "added user '$user_id' to $file"
echo "API token: $token"
echo "base URL:  https://HOST/$user_id/api/v2/   (restart Kong to load it: docker compose restart kong)"
