#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and benchmarks that need server settings of their own
# (pg_stat_statements, a server they may stop) without touching the shared one on port 5432.
#
#   scripts/pg-instance.sh start <port> <datadir>   initdb when needed, start; a no-op when running
#   scripts/pg-instance.sh stop  <port> <datadir>   fast shutdown; a no-op when not running
#   scripts/pg-instance.sh status <port> <datadir>  exit 0 when running
#
# The cluster: trust auth, listens on 127.0.0.1:<port> only, unix socket inside <datadir>,
# fsync off (data is disposable), pg_stat_statements preloaded with track=all and created in
# database `postgres`. Connect with postgres://postgres@127.0.0.1:<port>/postgres.
#
# Run as root (the server runs as the `postgres` OS user through runuser) or as the user who
# owns <datadir>. Binaries are found under /usr/lib/postgresql/<newest version>/bin, or on PATH.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|status <port> <datadir>" >&2
    exit 2
}

[ $# -eq 3 ] || usage
action=$1
port=$2
datadir=$3
case "$port" in
    '' | *[!0-9]*) echo "port must be a number, got '$port'" >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib/pg-common.sh
. "$(dirname "$0")/lib/pg-common.sh"
bindir=$(find_bindir)

# initdb and pg_ctl want an absolute data directory (the server chdirs into it).
case "$datadir" in
    /*) ;;
    *) datadir="$(pwd)/$datadir" ;;
esac

is_running() {
    [ -f "$datadir/PG_VERSION" ] && run_pg "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1
}

# The postgres user must be able to reach the datadir: a root-owned 0700 parent (mktemp -d)
# would stop it. Grant search (x) only, never read, on the ancestors that block it.
make_reachable() {
    [ "$(id -u)" -eq 0 ] || return 0
    local dir
    dir=$(dirname "$datadir")
    while [ "$dir" != "/" ]; do
        if ! runuser -u postgres -- test -x "$dir"; then
            chmod o+x "$dir"
            echo "pg-instance: granted search permission on $dir to the postgres user" >&2
        fi
        dir=$(dirname "$dir")
    done
}

init_cluster() {
    mkdir -p "$datadir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$datadir"
    fi
    chmod 0700 "$datadir"
    make_reachable
    run_pg "$bindir/initdb" -D "$datadir" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C >"$datadir.initdb.log" 2>&1 || {
        cat "$datadir.initdb.log" >&2
        exit 1
    }
    rm -f "$datadir.initdb.log"
    # Appended last, so these win over initdb's defaults.
    cat <<EOF | run_pg tee -a "$datadir/postgresql.conf" >/dev/null

# scripts/pg-instance.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$datadir'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start() {
    if is_running; then
        echo "pg-instance: already running ($datadir)"
        return 0
    fi
    if [ ! -f "$datadir/PG_VERSION" ]; then
        init_cluster
    else
        make_reachable
    fi
    # The port is given per start (not stored), so one datadir can be started on any port.
    run_pg "$bindir/pg_ctl" start -D "$datadir" -w -t 60 -l "$datadir/server.log" \
        -o "-p $port" >/dev/null || {
        tail -n 20 "$datadir/server.log" >&2 || true
        exit 1
    }
    PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    echo "pg-instance: running on 127.0.0.1:$port ($datadir)"
}

stop() {
    if ! is_running; then
        echo "pg-instance: not running ($datadir)"
        return 0
    fi
    run_pg "$bindir/pg_ctl" stop -D "$datadir" -m fast -w -t 60 >/dev/null
    echo "pg-instance: stopped ($datadir)"
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) is_running ;;
    *) usage ;;
esac
