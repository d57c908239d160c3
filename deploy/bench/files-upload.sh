#!/usr/bin/env bash
# Files throughput benchmark (not a test). Starts the stack (release build) in a scratch
# folder on free ports, makes a random file (1 GiB unless SIZE_MB says otherwise), then
# uploads it with curl through the dev gateway and directly to the files service, and
# downloads it back both ways. Each upload is compared with its ceiling measured in the
# same run: the smaller of `openssl md5` over the file (the upload hashes every byte) and
# `dd conv=fsync` of the file into the storage folder's file system just before it (the
# upload is durable before it answers). Each download is compared with the smaller of `openssl md5`'s rate
# and the page-cache read rate of the file. Prints MB/s, the ratios, and the peak RSS
# (VmHWM) of the files service and of the gateway. ROUNDS (default 1) repeats the
# measurements.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib/scratch-stack.sh

size_mb=${SIZE_MB:-1024}
start_scratch_stack "${SIMFORGE_BUILD:-release}"
source "$SIMFORGE_DATA_DIR/local.env"
files_direct="http://127.0.0.1:$SIMFORGE_FILES_PORT/$SIMFORGE_USER_ID/api/v2/"

input=$scratch/input.bin
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$input"
bytes=$(stat -c %s "$input")
cat "$input" > /dev/null   # warm the page cache for every contender alike

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{$bytes / 1e6 / (float(sys.argv[1])):.0f}')" "$1"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
peak_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$(cat "$SIMFORGE_DATA_DIR/run/$1.pid")/status"; }

start=$(now); reference_md5=$(openssl md5 -r "$input" | cut -d' ' -f1); md5_seconds=$(elapsed "$start" "$(now)")
md5_rate=$(rate "$md5_seconds")
# Durable writing into the storage folder's file system (the blobs live under the data
# folder). This VM's disk runs faster in bursts than steadily, so it is measured again right
# before each upload, and each upload is compared with its own measurement.
dd_rate() {
    local start seconds
    start=$(now); dd if="$input" of="$SIMFORGE_DATA_DIR/dd.bin" bs=1M conv=fsync status=none; seconds=$(elapsed "$start" "$(now)")
    rm -f "$SIMFORGE_DATA_DIR/dd.bin"; sync
    rate "$seconds"
}
start=$(now); cat "$input" > /dev/null; cache_rate=$(rate "$(elapsed "$start" "$(now)")")
smaller() { python3 -c "import sys; print(min(int(sys.argv[1]), int(sys.argv[2])))" "$1" "$2"; }
download_ceiling=$(smaller "$md5_rate" "$cache_rate")

upload() {  # upload URL [headers...] -> seconds; checks the md5 the service reports
    local url=$1 start response
    shift
    start=$(now)
    response=$(curl -sS --fail -X POST "$@" -F "file=@$input" "${url}files/contents/")
    local seconds
    seconds=$(elapsed "$start" "$(now)")
    [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["md5"])' <<< "$response")" = "$reference_md5" ] \
        || { echo "md5 mismatch after upload to $url" >&2; exit 1; }
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<< "$response" > "$scratch/last-id"
    echo "$seconds"
}
download() {  # download URL [headers...] -> seconds; then checks the bytes (untimed)
    local url=$1 start seconds
    shift
    # Into /dev/null: writing 1 GiB into new page-cache pages would measure this machine's
    # memory, not the service.
    start=$(now)
    curl -sS --fail "$@" -o /dev/null "$url"
    seconds=$(elapsed "$start" "$(now)")
    [ "$(curl -sS --fail "$@" "$url" | openssl md5 -r | cut -d' ' -f1)" = "$reference_md5" ] || { echo "download differs" >&2; exit 1; }
    echo "$seconds"
}
gateway_auth=(-H "Authorization: Token $SIMFORGE_TOKEN")
# Directly to the service, as the gateway calls it (with the proof that the gateway sent it).
direct_auth=(-H "X-Consumer-Custom-ID: $SIMFORGE_USER_ID" -H "X-Gateway-Secret: $(cat "$SIMFORGE_DATA_DIR/gateway.secret")")

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); file: $size_mb MiB"
printf '%-28s %8s %12s %22s\n' "what" "MB/s" "x ceiling" "ceiling (dd before it)"
printf '%-28s %8s\n' "openssl md5" "$md5_rate" "page-cache read" "$cache_rate"
row() {  # row NAME SECONDS CEILING [DD]
    local r
    r=$(rate "$2")
    printf '%-28s %8s %12s %22s\n' "$1" "$r" "$(ratio "$r" "$3")" "$3${4:+ ($4)}"
}
for round in $(seq "${ROUNDS:-1}"); do
    dd_gateway=$(dd_rate); up_gateway=$(upload "$SIMFORGE_URL" "${gateway_auth[@]}"); id=$(cat "$scratch/last-id")
    down_gateway=$(download "${SIMFORGE_URL}files/$id/contents/" "${gateway_auth[@]}")
    dd_direct=$(dd_rate); up_direct=$(upload "$files_direct" "${direct_auth[@]}"); id=$(cat "$scratch/last-id")
    down_direct=$(download "${files_direct}files/$id/contents/" "${direct_auth[@]}")
    row "upload via gateway" "$up_gateway" "$(smaller "$md5_rate" "$dd_gateway")" "$dd_gateway"
    row "upload direct to files" "$up_direct" "$(smaller "$md5_rate" "$dd_direct")" "$dd_direct"
    row "download via gateway" "$down_gateway" "$download_ceiling"
    row "download direct" "$down_direct" "$download_ceiling"
done
echo "ceilings: each upload against the smaller of openssl md5 and dd conv=fsync just before it; downloads against the smaller of md5 and a page-cache read"
echo "peak RSS: files $(peak_mib files-1) MiB, gateway $(peak_mib gateway) MiB"
