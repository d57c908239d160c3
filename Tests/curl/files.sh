#!/usr/bin/env bash
# Files through the gateway with curl, as a user would: upload (the Rescale docs' command
# with our prefix), read back, Range, another user's view, delete. Needs a running stack
# (deploy/run-local.sh); reads .data/local.env (or $SIMFORGE_ENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${SIMFORGE_ENV:-.data/local.env}"
source Tests/curl/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 3000000 /dev/urandom > "$work/input.zip"
expected_md5=$(md5sum "$work/input.zip" | cut -d' ' -f1)

request "${SIMFORGE_URL}files/contents/" -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -F "file=@$work/input.zip"
check "upload answers 201" [ "$status" = 201 ]
check "the File has every field of API.md" [ "$(json "sorted(d.keys()) == sorted(['id','typeId','name','dateUploaded','relativePath','path','encodedEncryptionKey','sharedWith','decryptedSize','owner','isUploaded','viewInBrowser','md5','downloadUrl','isDeleted'])")" = True ]
check "md5 is the file's" [ "$(json "d['md5']")" = "$expected_md5" ]
check "decryptedSize is the file's" [ "$(json "d['decryptedSize']")" = 3000000 ]
check "an input file by default" [ "$(json "d['typeId']")" = 1 ]
check "uploaded" [ "$(json "d['isUploaded']")" = True ]
id=$(json "d['id']")
download_url=$(json "d['downloadUrl']")
check "downloadUrl is the gateway's contents URL" [ "$download_url" = "${SIMFORGE_URL}files/$id/contents/" ]

curl -sS -o "$work/back" -H "Authorization: Token $SIMFORGE_TOKEN" "$download_url"
check "the download is byte for byte the upload" cmp -s "$work/input.zip" "$work/back"
range=$(curl -sS -H "Authorization: Token $SIMFORGE_TOKEN" -H "Range: bytes=100-199" "$download_url" | md5sum | cut -d' ' -f1)
check "a Range request gets those bytes" [ "$range" = "$(tail -c +101 "$work/input.zip" | head -c 100 | md5sum | cut -d' ' -f1)" ]

user2_url=$(echo "$SIMFORGE_URL" | sed "s#/$SIMFORGE_USER_ID/#/$SIMFORGE_USER2_ID/#")
request "${user2_url}files/$id/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user gets 404 for the file" [ "$status" = 404 ]
request "${user2_url}files/$id/contents/" -H "Authorization: Token $SIMFORGE_TOKEN2"
check "another user gets 404 for its contents" [ "$status" = 404 ]

request "${SIMFORGE_URL}files/?search=input" -H "Authorization: Token $SIMFORGE_TOKEN"
check "the file is listed" [ "$(json "any(f['id'] == '$id' for f in d['results'])")" = True ]

request "${SIMFORGE_URL}files/$id/" -X DELETE -H "Authorization: Token $SIMFORGE_TOKEN"
check "delete answers 204" [ "$status" = 204 ]
request "${SIMFORGE_URL}files/$id/" -H "Authorization: Token $SIMFORGE_TOKEN"
check "a deleted file is 404" [ "$status" = 404 ]

# The python SDK uploads with PUT; python's requests turns the docs' per-part `type_id` into
# a malformed part Content-Type (curl refuses to send one: the body is built by hand). Both
# upload like a plain POST.
python3 - "$work/input.zip" "$work/put.body" <<'PY'
import sys
head = b'--SimforgeCurl\r\nContent-Disposition: form-data; name="file"; filename="input.zip"\r\nContent-Type: {\'type_id\': 1}\r\n\r\n'
with open(sys.argv[1], "rb") as data, open(sys.argv[2], "wb") as body:
    body.write(head + data.read() + b"\r\n--SimforgeCurl--\r\n")
PY
request "${SIMFORGE_URL}files/contents/" -X PUT -H "Authorization: Token $SIMFORGE_TOKEN" \
    -H "Content-Type: multipart/form-data; boundary=SimforgeCurl" --data-binary "@$work/put.body"
check "PUT with a malformed part Content-Type answers 201" [ "$status" = 201 ]
check "PUT stored the same bytes" [ "$(json "d['md5']")" = "$expected_md5" ]
check "PUT's file is an input" [ "$(json "d['typeId']")" = 1 ]
request "${SIMFORGE_URL}files/$(json "d['id']")/" -X DELETE -H "Authorization: Token $SIMFORGE_TOKEN"
check "the PUT upload is deleted" [ "$status" = 204 ]

# Keep one file for the restart check of run-local-e2e.sh.
request "${SIMFORGE_URL}files/contents/" -X POST -H "Authorization: Token $SIMFORGE_TOKEN" -F "file=@$work/input.zip;filename=kept.bin"
check "a second upload answers 201" [ "$status" = 201 ]

summary files.sh
