# PostgreSQL helpers for deploy/test.sh and deploy/run-local.sh (source this file).
# The server refuses to run as root, so it runs as the `postgres` system user; its data
# folder is owned by that user. TCP on 127.0.0.1 with password (scram) auth; the unix
# socket (in the data's parent folder) trusts local admin tasks, so that folder and the
# socket are the `postgres` user's alone: job commands run on this host (as `nobody`, or
# any other local user) must not reach the database as its superuser.

PG_OS_USER=${PG_OS_USER:-postgres}

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
    echo "$dir"
}

as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }

# pg_init ROOT PASSWORD [HOST_AUTH]: a new cluster in ROOT/data whose superuser `postgres`
# has PASSWORD, checked on TCP by HOST_AUTH (scram-sha-256, or md5: see pg_use_md5).
pg_init() {
    local root=$1 password=$2 host_auth=${3:-scram-sha-256} bin
    bin=$(pg_bin)
    mkdir -p "$root"
    chown "$PG_OS_USER:" "$root"
    as_pg test -x "$root" || { echo "the $PG_OS_USER user cannot reach $root (check the parent folders' permissions)" >&2; return 1; }
    local pwfile="$root/.pw"
    ( umask 077; printf '%s\n' "$password" > "$pwfile" )
    chown "$PG_OS_USER" "$pwfile"
    as_pg "$bin/initdb" -D "$root/data" -U postgres --pwfile="$pwfile" \
        --auth-local=trust --auth-host="$host_auth" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
}

# pg_start ROOT PORT [extra server options]
pg_start() {
    local root=$1 port=$2 bin
    shift 2
    bin=$(pg_bin)
    chmod 700 "$root"
    as_pg "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 start \
        -o "-p $port -k $root -c unix_socket_permissions=0700 -c listen_addresses=127.0.0.1 $*" >/dev/null
}

# pg_stop ROOT: fast shutdown if running.
pg_stop() {
    local root=$1 bin
    bin=$(pg_bin)
    [ -f "$root/data/postmaster.pid" ] || return 0
    as_pg "$bin/pg_ctl" -D "$root/data" -m fast -w -t 60 stop >/dev/null
}

# pg_psql ROOT PORT DATABASE SQL...: runs SQL as the superuser over the unix socket.
# pg_use_md5 ROOT PORT PASSWORD: stores the superuser's password as md5, for a cluster made
# with HOST_AUTH md5 (initdb stores it as scram, whatever the method).
pg_use_md5() {
    pg_psql "$1" "$2" postgres -v password="$3" <<'SQL'
SET password_encryption = 'md5';
ALTER ROLE postgres PASSWORD :'password';
SQL
}

pg_psql() {
    local root=$1 port=$2 database=$3
    shift 3
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$root" -p "$port" -U postgres -d "$database" "$@"
}

# pg_free_port: a TCP port nobody listens on, from 55432 up.
pg_free_port() {
    local port=${1:-55432}
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}
