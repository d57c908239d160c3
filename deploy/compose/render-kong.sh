#!/usr/bin/env bash
# render-kong.sh KONG_YML [USERS_YML...]: prints the one declarative file Kong loads in
# DB-less mode: KONG_YML with the consumers of each USERS_YML appended to its consumers
# list, and its __GATEWAY_SECRET__ placeholder replaced by the GATEWAY_SECRET environment
# variable (the secret the services require beside the consumer headers; generated into
# .env by generate-env.sh). Kong reads a single file, and neither user tokens nor secrets
# are committed, so the Kong container of docker-compose.yml runs this at every start with
# kong.yml and deploy/compose/secrets/consumers.yml (written by add-user.sh).
#
# A USERS_YML has the form add-user.sh and deploy/run-local.sh write (the dev gateway
# reads the same files through GATEWAY_CONFIG):
#   consumers:
#     - username: alice
#       custom_id: alice            # the {userId} of the user's paths
#       keyauth_credentials:
#         - key: "<api token>"
# KONG_YML must end with its `consumers:` section (tests check that kong.yml does), so
# that appending list entries keeps the YAML valid; the entries must be indented by two
# spaces, as kong.yml's are.
set -euo pipefail

fail() { echo "render-kong: $*" >&2; exit 1; }
[ $# -ge 1 ] || fail "usage: render-kong.sh KONG_YML [USERS_YML...]"
kong_yml=$1
shift
[ -f "$kong_yml" ] || fail "$kong_yml is not a file"

top_level_keys() { grep -E '^[A-Za-z_][A-Za-z0-9_]*:' "$1" | sed -E 's/:.*//' || true; }

[ "$(top_level_keys "$kong_yml" | tail -n 1)" = consumers ] \
    || fail "the last top-level section of $kong_yml must be 'consumers:'"
# Goes into a Lua string literal of the post-function: letters and digits only.
[[ "${GATEWAY_SECRET:-}" =~ ^[A-Za-z0-9]{16,}$ ]] \
    || fail "GATEWAY_SECRET must be set to 16 or more letters and digits (deploy/compose/generate-env.sh)"
grep -q '__GATEWAY_SECRET__' "$kong_yml" || fail "$kong_yml has no __GATEWAY_SECRET__ placeholder"
sed "s/__GATEWAY_SECRET__/$GATEWAY_SECRET/g" "$kong_yml"

for users in "$@"; do
    [ -f "$users" ] || fail "$users is not a file (deploy/compose/generate-env.sh creates it)"
    others=$(top_level_keys "$users" | grep -vx consumers || true)
    [ -z "$others" ] || fail "$users may only hold a 'consumers:' section, found: $others"
    if grep -qE '^- ' "$users"; then
        fail "$users: indent consumer entries by two spaces ('  - username: ...')"
    fi
    printf '\n  # from %s\n' "$(basename "$users")"
    # Everything after the `consumers:` line: the list entries.
    awk 'found { print } /^consumers:/ { found = 1 }' "$users"
done
