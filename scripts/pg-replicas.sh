#!/usr/bin/env bash
# A private PostgreSQL primary and N streaming replicas on loopback, for the read-replica tests
# and for trying DATABASE_URL_REPLICA by hand, without touching the shared server on port 5432.
#
#   scripts/pg-replicas.sh start  <primary-port> <replica-port>...   create when needed, start, wait
#                                                                     until every replica streams
#   scripts/pg-replicas.sh stop   <primary-port> <replica-port>...   fast shutdown, replicas first
#   scripts/pg-replicas.sh status <primary-port> <replica-port>...   exit 0 when all are running
#   scripts/pg-replicas.sh kill   <port>                             immediate shutdown of one
#                                                                     cluster (a crash, for tests)
#   scripts/pg-replicas.sh freeze <port>                             SIGSTOP its processes: a server
#                                                                     that stops answering with its
#                                                                     sockets open (a hung host)
#   scripts/pg-replicas.sh thaw   <port>                             SIGCONT them
#   scripts/pg-replicas.sh remove <primary-port> <replica-port>...   stop, then delete the data
#
# Every command is idempotent: `start` on a running set only waits for streaming, and starts
# again whatever was stopped or killed (a killed replica recovers and resumes streaming).
#
# Data directories: $PG_REPLICAS_DIR/<port> (default: target/pg-replicas under the repository).
# The primary: initdb with trust auth (replication connections included), wal_level=replica,
# max_wal_senders=10, pg_stat_statements preloaded (track=all, created in database `postgres`),
# fsync off (the data is disposable). Each replica: `pg_basebackup -R` (standby.signal and
# primary_conninfo written for us) through a physical replication slot `replica_<port>`, so the
# primary keeps the WAL a stopped or paused replica still needs; hot_standby on,
# hot_standby_feedback on (fewer queries cancelled by recovery conflicts), cluster_name
# `replica_<port>` (its walreceiver's application_name).
#
# Connect with postgres://postgres@127.0.0.1:<port>/postgres. Run as root (the servers run as the
# `postgres` OS user through runuser) or as the user who owns the data directories. Binaries are
# found as scripts/pg-instance.sh finds them: /usr/lib/postgresql/<newest>/bin, or on PATH.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|status|remove <primary-port> <replica-port>...  |  $0 kill|freeze|thaw <port>" >&2
    exit 2
}

[ $# -ge 2 ] || usage
action=$1
shift
for port in "$@"; do
    case "$port" in
        '' | *[!0-9]*) echo "ports must be numbers, got '$port'" >&2; exit 2 ;;
    esac
done

repo_root=$(cd "$(dirname "$0")/.." && pwd)
base=${PG_REPLICAS_DIR:-$repo_root/target/pg-replicas}
case "$base" in
    /*) ;;
    *) base="$(pwd)/$base" ;;
esac

# shellcheck source=scripts/lib/pg-common.sh
. "$(dirname "$0")/lib/pg-common.sh"
bindir=$(find_bindir)

datadir_of() { echo "$base/$1"; }

is_running() {
    local datadir
    datadir=$(datadir_of "$1")
    [ -f "$datadir/PG_VERSION" ] && run_pg "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1
}

psql_at() {
    local port=$1
    shift
    PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -X -q -A -t -h 127.0.0.1 -p "$port" \
        -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

# The postgres user must reach the data directories: a root-owned 0700 ancestor would stop it.
# Grant search (x) only, never read, on the ancestors that block it.
make_reachable() {
    [ "$(id -u)" -eq 0 ] || return 0
    local dir=$1
    while [ "$dir" != "/" ]; do
        if ! runuser -u postgres -- test -x "$dir"; then
            chmod o+x "$dir"
            echo "pg-replicas: granted search permission on $dir to the postgres user" >&2
        fi
        dir=$(dirname "$dir")
    done
}

# An empty directory the server user owns, mode 0700 (initdb and pg_basebackup insist).
prepare_dir() {
    local datadir=$1
    mkdir -p "$datadir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$datadir"
    fi
    chmod 0700 "$datadir"
    make_reachable "$(dirname "$datadir")"
}

start_cluster() {
    local port=$1 datadir
    datadir=$(datadir_of "$port")
    if is_running "$port"; then
        return 0
    fi
    # The port is given per start (not stored), as scripts/pg-instance.sh does.
    run_pg "$bindir/pg_ctl" start -D "$datadir" -w -t 120 -l "$datadir/server.log" \
        -o "-p $port" >/dev/null || {
        tail -n 20 "$datadir/server.log" >&2 || true
        exit 1
    }
}

init_primary() {
    local port=$1 datadir
    datadir=$(datadir_of "$port")
    prepare_dir "$datadir"
    run_pg "$bindir/initdb" -D "$datadir" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C >"$base/initdb-$port.log" 2>&1 || {
        cat "$base/initdb-$port.log" >&2
        exit 1
    }
    rm -f "$base/initdb-$port.log"
    # initdb's pg_hba.conf already lets local and loopback replication connections in (trust).
    # Appended last, so these win over initdb's defaults; replicas copy this file.
    cat <<EOF | run_pg tee -a "$datadir/postgresql.conf" >/dev/null

# scripts/pg-replicas.sh (primary; replicas override below)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$datadir'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
fsync = off
full_page_writes = off
max_connections = 200
EOF
}

init_replica() {
    local primary_port=$1 port=$2 datadir slot
    datadir=$(datadir_of "$port")
    slot="replica_$port"
    # A slot left by an earlier copy of this replica (its data directory was removed).
    psql_at "$primary_port" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot' AND NOT active" >/dev/null
    rm -rf "$datadir"
    prepare_dir "$datadir"
    run_pg "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$datadir" \
        -R -X stream -C -S "$slot" --checkpoint=fast >"$base/basebackup-$port.log" 2>&1 || {
        cat "$base/basebackup-$port.log" >&2
        rm -rf "$datadir"
        exit 1
    }
    rm -f "$base/basebackup-$port.log"
    # The copied server.log and pid belong to the primary.
    rm -f "$datadir/server.log" "$datadir/postmaster.pid"
    cat <<EOF | run_pg tee -a "$datadir/postgresql.conf" >/dev/null

# scripts/pg-replicas.sh (replica of port $primary_port)
unix_socket_directories = '$datadir'
cluster_name = 'replica_$port'
hot_standby_feedback = on
EOF
}

# Waits until the replica on <port> streams from the primary (its walreceiver says so).
wait_streaming() {
    local port=$1 i
    for i in $(seq 1 240); do
        if [ "$(psql_at "$port" -c "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null)" = "1" ]; then
            return 0
        fi
        sleep 0.25
    done
    echo "pg-replicas: the replica on port $port does not stream after 60 s (see $(datadir_of "$port")/server.log)" >&2
    exit 1
}

start() {
    local primary_port=$1
    shift
    mkdir -p "$base"
    make_reachable "$base"
    if [ ! -f "$(datadir_of "$primary_port")/PG_VERSION" ]; then
        init_primary "$primary_port"
    fi
    start_cluster "$primary_port"
    psql_at "$primary_port" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    local port
    for port in "$@"; do
        if [ ! -f "$(datadir_of "$port")/PG_VERSION" ]; then
            init_replica "$primary_port" "$port"
        fi
        start_cluster "$port"
    done
    for port in "$@"; do
        wait_streaming "$port"
    done
    echo "pg-replicas: primary 127.0.0.1:$primary_port, streaming replicas: $* ($base)"
}

# The postmaster of the cluster on <port> and its children (nothing when it is not running).
cluster_pids() {
    local pidfile pid
    pidfile="$(datadir_of "$1")/postmaster.pid"
    [ -f "$pidfile" ] || return 0
    pid=$(head -n 1 "$pidfile")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    echo "$pid"
    # Its children, from /proc (procps may not be installed on a fresh machine).
    awk -v parent="$pid" '/^Pid:/ { p = $2 } /^PPid:/ && $2 == parent { print p }' \
        /proc/[0-9]*/status 2>/dev/null || true
}

signal_cluster() {
    local signal=$1 port=$2 pids
    pids=$(cluster_pids "$port")
    [ -z "$pids" ] || kill "-$signal" $pids 2>/dev/null || true
}

stop_cluster() {
    local port=$1
    # A frozen cluster could not act on the shutdown request.
    signal_cluster CONT "$port"
    if is_running "$port"; then
        run_pg "$bindir/pg_ctl" stop -D "$(datadir_of "$port")" -m fast -w -t 60 >/dev/null
    fi
}

stop() {
    local primary_port=$1
    shift
    local port
    # Replicas first: a primary shutting down waits for its walsenders to send the last WAL.
    for port in "$@"; do
        stop_cluster "$port"
    done
    stop_cluster "$primary_port"
    echo "pg-replicas: stopped $primary_port $*"
}

status() {
    local port
    for port in "$@"; do
        is_running "$port" || return 1
    done
}

freeze() {
    [ $# -eq 1 ] || usage
    signal_cluster STOP "$1"
    echo "pg-replicas: froze $1 (SIGSTOP)"
}

thaw() {
    [ $# -eq 1 ] || usage
    signal_cluster CONT "$1"
    echo "pg-replicas: thawed $1 (SIGCONT)"
}

kill_one() {
    [ $# -eq 1 ] || usage
    signal_cluster CONT "$1"
    if is_running "$1"; then
        run_pg "$bindir/pg_ctl" stop -D "$(datadir_of "$1")" -m immediate -w -t 60 >/dev/null
    fi
    echo "pg-replicas: killed $1 (immediate shutdown)"
}

remove() {
    stop "$@"
    local port
    for port in "$@"; do
        rm -rf "$(datadir_of "$port")"
    done
}

case "$action" in
    start) start "$@" ;;
    stop) stop "$@" ;;
    status) status "$@" ;;
    kill) kill_one "$@" ;;
    freeze) freeze "$@" ;;
    thaw) thaw "$@" ;;
    remove) remove "$@" ;;
    *) usage ;;
esac
