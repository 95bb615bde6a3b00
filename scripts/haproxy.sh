#!/usr/bin/env bash
# HAProxy in front of FraiseQL instances on loopback, from deploy/haproxy/haproxy.cfg.
#
#   scripts/haproxy.sh start <listen-port> <backend-port>...   start (replacing one already on
#                                                              that port); wait until it answers
#   scripts/haproxy.sh stop <listen-port>                      stop it; a no-op when not running
#
# Installs haproxy with apt-get when it is missing (as root, or through sudo). Each listen port
# has its own directory, ${TMPDIR:-/tmp}/fraiseql-haproxy-<listen-port>, holding the generated
# haproxy.cfg, haproxy.pid and haproxy.log (abnormal requests and server state changes).
#
# Environment:
#   HAPROXY_CHECK_INTER  health-check interval (default 30s, the product's); tests that must see
#                        a dead instance taken out quickly use e.g. 1s (out after 3 failures)
#   HAPROXY_STATS_PORT   also serve HAProxy's /metrics (Prometheus) and /stats on this port
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
template=$repo_root/deploy/haproxy/haproxy.cfg

usage() {
    echo "usage: $0 start <listen-port> <backend-port>... | stop <listen-port>" >&2
    exit 2
}
die() {
    echo "haproxy.sh: $*" >&2
    exit 1
}
is_port() {
    case "$1" in '' | *[!0-9]*) return 1 ;; *) [ "$1" -ge 1 ] && [ "$1" -le 65535 ] ;; esac
}

[ $# -ge 2 ] || usage
action=$1
listen_port=$2
shift 2
is_port "$listen_port" || die "listen port must be a number from 1 to 65535, got '$listen_port'"
state_dir=${TMPDIR:-/tmp}/fraiseql-haproxy-$listen_port
pid_file=$state_dir/haproxy.pid

running_pid() {
    local pid
    [ -f "$pid_file" ] || return 1
    pid=$(cat "$pid_file")
    # Only a process that is haproxy: a stale file may name a pid reused by something else.
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = haproxy ] && echo "$pid"
}

stop() {
    local pid
    if pid=$(running_pid); then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "haproxy on 127.0.0.1:$listen_port stopped"
    fi
    rm -f "$pid_file"
}

install_haproxy() {
    command -v haproxy >/dev/null 2>&1 && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "haproxy is missing and installing it needs root"
        sudo=(sudo)
    fi
    echo "installing haproxy (apt-get)"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends haproxy
    # On a host with systemd the package starts its own (empty) service: not ours to keep.
    if [ -d /run/systemd/system ]; then
        "${sudo[@]}" systemctl disable --now haproxy >/dev/null 2>&1 || true
    fi
    command -v haproxy >/dev/null 2>&1 || die "haproxy still missing after apt-get install"
}

# The template with this run's ports: the bind line after "# @listen", the server lines between
# the @servers markers, the check interval, and the stats section only with HAPROXY_STATS_PORT.
write_config() {
    local servers="" i=1 port
    for port in "$@"; do
        servers+="    server fraiseql-$i 127.0.0.1:$port"$'\n'
        i=$((i + 1))
    done
    awk -v listen="$listen_port" -v servers="$servers" \
        -v inter="${HAPROXY_CHECK_INTER:-30s}" -v stats="${HAPROXY_STATS_PORT:-}" '
        /# @listen$/        { print; getline; sub(/:[0-9]+$/, ":" listen); print; next }
        /# @check$/         { print; getline; sub(/inter [^ ]+/, "inter " inter); print; next }
        /# @servers-begin$/ { print; printf "%s", servers; skip = 1; next }
        /# @servers-end$/   { skip = 0; print; next }
        /^# @stats-begin$/  { in_stats = 1; if (stats == "") next }
        /^# @stats-end$/    { in_stats = 0; if (stats == "") next }
        in_stats && stats == "" { next }
        in_stats && /^    bind / { sub(/:[0-9]+$/, ":" stats) }
        !skip { print }
    ' "$template"
}

case "$action" in
    stop)
        [ $# -eq 0 ] || usage
        stop
        ;;
    start)
        [ $# -ge 1 ] || usage
        for port in "$@"; do
            is_port "$port" || die "backend port must be a number, got '$port'"
        done
        install_haproxy
        stop
        mkdir -p "$state_dir"
        write_config "$@" >"$state_dir/haproxy.cfg"
        haproxy -c -q -f "$state_dir/haproxy.cfg" || die "generated $state_dir/haproxy.cfg is invalid"
        # Foreground mode (-db) in the background, so the log reaches our file.
        nohup haproxy -db -f "$state_dir/haproxy.cfg" >"$state_dir/haproxy.log" 2>&1 </dev/null &
        echo $! >"$pid_file"
        # Up when it answers HTTP at all (503 is an answer: no instance ready yet).
        code=000
        for _ in $(seq 1 100); do
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
                "http://127.0.0.1:$listen_port/health/live" 2>/dev/null) || true
            [ "$code" != 000 ] && break
            running_pid >/dev/null || { cat "$state_dir/haproxy.log" >&2; die "haproxy exited"; }
            sleep 0.1
        done
        [ "$code" != 000 ] || { stop; die "haproxy did not answer on 127.0.0.1:$listen_port"; }
        echo "haproxy on 127.0.0.1:$listen_port -> $* (GET /health/live: $code; config and log in $state_dir)"
        ;;
    *) usage ;;
esac
