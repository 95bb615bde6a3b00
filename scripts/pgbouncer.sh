#!/usr/bin/env bash
# PgBouncer in transaction mode in front of a PostgreSQL server, for tests and benchmarks that
# must prove the server works behind a pooler (FRAISEQL_STATEMENT_CACHE=off).
#
#   scripts/pgbouncer.sh start  <port> <target-port>   install when missing, configure, start, wait
#   scripts/pgbouncer.sh stop   <port> <target-port>   stop; a no-op when not running
#   scripts/pgbouncer.sh status <port> <target-port>   exit 0 when running
#
# Listens on 127.0.0.1:<port> and forwards every database to 127.0.0.1:<target-port>, user
# postgres, auth_type trust (the target must trust loopback, as the CI server and
# scripts/pg-instance.sh clusters do). Its files (pgbouncer.ini, userlist.txt, log, pid) live in
# ${PGBOUNCER_DIR:-/tmp/fraiseql-pgbouncer-<port>}. PgBouncer refuses to run as root, so as
# root it runs as the `postgres` OS user (created by the postgresql package) through runuser.
# Connect with postgres://postgres@127.0.0.1:<port>/<database>.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|status <port> <target-port>" >&2
    exit 2
}

[ $# -eq 3 ] || usage
action=$1
port=$2
target_port=$3
for n in "$port" "$target_port"; do
    case "$n" in
        '' | *[!0-9]*) echo "ports must be numbers, got '$n'" >&2; exit 2 ;;
    esac
done
dir=${PGBOUNCER_DIR:-/tmp/fraiseql-pgbouncer-$port}
pidfile="$dir/pgbouncer.pid"

if [ "$(id -u)" -eq 0 ]; then
    run_user=postgres
    as_user() { runuser -u "$run_user" -- "$@"; }
else
    run_user=$(id -un)
    as_user() { "$@"; }
fi

find_pgbouncer() {
    command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; } || true
}

install_pgbouncer() {
    [ -n "$(find_pgbouncer)" ] && return 0
    [ "$(id -u)" -eq 0 ] || { echo "pgbouncer is missing: install the pgbouncer package" >&2; exit 1; }
    echo "pgbouncer.sh: installing pgbouncer" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
    # The package may start its own instance on 6432 (with systemd); ours is separate.
}

running_pid() {
    local pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

answers() {
    PGCONNECT_TIMEOUT=2 psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "SELECT 1" 2>/dev/null | grep -qx 1
}

write_config() {
    mkdir -p "$dir"
    cat >"$dir/pgbouncer.ini" <<EOF
; written by scripts/pgbouncer.sh
[databases]
* = host=127.0.0.1 port=$target_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
; JDBC and some drivers send it; tokio-postgres and psql send only what PgBouncer tracks.
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $pidfile
admin_users = postgres
; Tests drop and create databases all the time: after a failed server login (a database
; dropped under a pool) retry within a second, not the default 15.
server_login_retry = 1
EOF
    # With trust the user must still be listed.
    echo '"postgres" ""' >"$dir/userlist.txt"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R "$run_user" "$dir"
    fi
}

start() {
    if running_pid >/dev/null; then
        echo "pgbouncer.sh: already running on 127.0.0.1:$port ($dir)"
        return 0
    fi
    install_pgbouncer
    write_config
    rm -f "$pidfile"
    as_user "$(find_pgbouncer)" -d -q "$dir/pgbouncer.ini" || {
        tail -n 20 "$dir/pgbouncer.log" >&2 || true
        exit 1
    }
    local i
    for i in $(seq 1 100); do
        if answers; then
            echo "pgbouncer.sh: transaction pooling on 127.0.0.1:$port -> 127.0.0.1:$target_port ($dir)"
            return 0
        fi
        sleep 0.1
    done
    echo "pgbouncer.sh: no answer through 127.0.0.1:$port within 10 s" >&2
    tail -n 20 "$dir/pgbouncer.log" >&2 || true
    exit 1
}

stop() {
    local pid i
    if ! pid=$(running_pid); then
        echo "pgbouncer.sh: not running ($dir)"
        return 0
    fi
    # SIGTERM: immediate shutdown (SIGINT would wait for clients to leave).
    kill -TERM "$pid"
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || {
            echo "pgbouncer.sh: stopped ($dir)"
            return 0
        }
        sleep 0.1
    done
    echo "pgbouncer.sh: pid $pid did not stop" >&2
    exit 1
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) running_pid >/dev/null ;;
    *) usage ;;
esac
