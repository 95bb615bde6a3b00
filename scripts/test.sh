#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (`.ci/run` execs this). From the repository root:
#
#   bash scripts/test.sh
#
# On a fresh Debian machine (root, Rust and Node installed) it first makes the environment whole:
# starts PostgreSQL, Redis and NATS when they are down, installs what is missing with apt-get
# (chromium, sqlite3, pgbouncer, ...), and starts a private PostgreSQL cluster with
# pg_stat_statements on port 55432 (stopped again at exit) for the tests that count statements.
# Then it runs rustfmt, clippy, `cargo test --workspace`, the in-process PostgreSQL tests again
# through PgBouncer in transaction mode (port 55441, FRAISEQL_STATEMENT_CACHE=off), the read
# replica tests (their own primaries and streaming replicas, ports 55480-55491) and the browser
# test. Every step runs even when an earlier one failed, so one run shows every
# failure; the exit status is non-zero when any step failed.
set -uo pipefail

cd "$(dirname "$0")/.."
repo_root=$(pwd)

started_at=$(date +%s)
failed_steps=()
passed_steps=()

section() {
    printf '\n\033[1m==== %s ====\033[0m  (%ss elapsed)\n' "$*" "$(($(date +%s) - started_at))"
}

# Runs one named step; records whether it passed without stopping the run.
step() {
    local name=$1
    shift
    section "$name"
    local t0
    t0=$(date +%s)
    if "$@"; then
        passed_steps+=("$name ($(($(date +%s) - t0))s)")
    else
        echo "!!!! FAILED: $name" >&2
        failed_steps+=("$name")
    fi
}

die() {
    echo "test.sh: $*" >&2
    exit 1
}

if [ "$(id -u)" -eq 0 ]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    as_root() { sudo "$@"; }
else
    as_root() { die "need root (or sudo) to run: $*"; }
fi

# ---------------------------------------------------------------------------------------------
# Environment: packages and services. Only what is missing is installed or started.

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" \
        || die "apt-get install $* failed"
}

# `need <command or absolute path> <package>`: installs the package when the command is missing.
need() {
    local what=$1 package=$2
    if [ "${what#/}" != "$what" ]; then
        [ -x "$what" ] && return 0
    elif command -v "$what" >/dev/null 2>&1; then
        return 0
    fi
    echo "installing $package (for $what)"
    apt_install "$package"
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

wait_for_port() {
    local port=$1 name=$2 i
    for i in $(seq 1 60); do
        port_open "$port" && return 0
        sleep 0.5
    done
    die "$name did not start listening on 127.0.0.1:$port"
}

# A clean clone gains nothing from incremental compilation; it only costs disk and time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

section "Environment"
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs)"
command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer"
command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20 or newer"
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        rustup component list --installed 2>/dev/null | grep -q "^$component" \
            || rustup component add "$component" || die "rustup component add $component failed"
    done
fi

need /usr/bin/chromium chromium
need sqlite3 sqlite3
need psql postgresql-client
ls -d /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install postgresql postgresql-contrib
need redis-server redis-server
need /usr/sbin/pgbouncer pgbouncer
need /usr/sbin/nats-server nats-server

if ! port_open 5432; then
    echo "starting PostgreSQL"
    # The newest installed cluster version (a directory name such as 15).
    pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start \
        || die "PostgreSQL did not start"
    wait_for_port 5432 PostgreSQL
fi
if ! port_open 6379; then
    echo "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || die "Redis did not start"
    wait_for_port 6379 Redis
fi
if ! port_open 4222; then
    echo "starting NATS"
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log \
        || die "NATS did not start"
    wait_for_port 4222 NATS
fi
echo "PostgreSQL :5432, Redis :6379, NATS :4222 are up"

# The private cluster with pg_stat_statements: statement counts must come from a server that
# nobody else is using at the same time.
pg_stats_port=55432
pg_stats_dir="$repo_root/target/pg-stats-cluster"
mkdir -p "$repo_root/target"
stop_pg_stats() {
    bash "$repo_root/scripts/pg-instance.sh" stop "$pg_stats_port" "$pg_stats_dir" || true
}
# PgBouncer for the "through PgBouncer" step (started there, stopped there and at exit).
pgbouncer_port=55441
stop_pgbouncer() {
    bash "$repo_root/scripts/pgbouncer.sh" stop "$pgbouncer_port" 5432 || true
}
# The read-replica tests start and remove their own clusters (scripts/pg-replicas.sh, three
# ports from each of these); this removes what a killed run may have left behind.
replica_first_ports=(55480 55483 55486 55489)
replicas_dir="${CARGO_TARGET_DIR:-$repo_root/target}/tmp/pg-replicas"
remove_replicas() {
    local first
    for first in "${replica_first_ports[@]}"; do
        PG_REPLICAS_DIR="$replicas_dir" bash "$repo_root/scripts/pg-replicas.sh" remove \
            "$first" "$((first + 1))" "$((first + 2))" >/dev/null 2>&1 || true
    done
}
stop_services() {
    stop_pgbouncer
    stop_pg_stats
    remove_replicas
}
trap stop_services EXIT
bash scripts/pg-instance.sh start "$pg_stats_port" "$pg_stats_dir" \
    || die "the pg_stat_statements cluster did not start (see $pg_stats_dir/server.log)"
export FRAISEQL_TEST_PG_STATS_URL="postgres://postgres@127.0.0.1:$pg_stats_port/postgres"
echo "FRAISEQL_TEST_PG_STATS_URL=$FRAISEQL_TEST_PG_STATS_URL"

# ---------------------------------------------------------------------------------------------
# The checks.

step "cargo fmt --check" cargo fmt --all -- --check
# --keep-going: report every crate's lints, not only the first failing crate's.
step "cargo clippy (warnings are errors)" cargo clippy --workspace --all-targets --keep-going -- -D warnings
# --no-fail-fast: a failing test binary must not hide the results of the ones after it.
step "cargo test --workspace" cargo test --workspace --no-fail-fast

# The in-process PostgreSQL suites again, their databases reached through PgBouncer in
# transaction mode: what a deployment behind PgBouncer runs, with the statement cache off
# (fraiseql-runtime/tests/db_pools.rs shows why it must be off). `--workspace` keeps the feature
# resolution of the step above, so nothing is rebuilt.
through_pgbouncer() {
    bash scripts/pgbouncer.sh start "$pgbouncer_port" 5432 || return 1
    local status=0
    FRAISEQL_TEST_PG_URL_BASE="postgres://postgres@127.0.0.1:$pgbouncer_port" \
        FRAISEQL_STATEMENT_CACHE=off \
        cargo test --workspace --test exec_blog --test mutations --no-fail-fast || status=1
    stop_pgbouncer
    return $status
}
step "exec_blog and mutations through PgBouncer (transaction mode, statement cache off)" through_pgbouncer

# Read replicas against real streaming replication (tests/replicas.rs, #[ignore]d in the plain
# run above because they start PostgreSQL clusters of their own): spread, a replica killed under
# load, replay paused past the lag bound, read-your-writes with the consistency token.
replica_tests() {
    local status=0
    cargo test --workspace --test replicas --no-fail-fast -- --ignored || status=1
    remove_replicas
    return $status
}
step "read replicas (a primary and two streaming replicas per test)" replica_tests

browser_test() {
    # The binary the integration tests ran (target/debug/fraiseql-blog). `cargo test --no-run`
    # is a no-op after `cargo test`; a plain `cargo build` would rebuild many dependencies,
    # because without the dev-dependencies cargo resolves their features differently.
    cargo test --workspace --no-run || return 1
    (cd tests/browser && npm ci --no-audit --no-fund && npm test)
}
step "browser test (headless Chromium, playground)" browser_test

conformance_audit() {
    cargo test --workspace --no-run || return 1
    (cd tests/conformance && npm ci --no-audit --no-fund && npm test)
}
step "GraphQL-over-HTTP conformance audit (graphql-http serverAudits, every MUST)" conformance_audit

step "fuzz: document pipeline and schema compiler, 20 s each (no panics)" bash scripts/fuzz.sh 20

step "deploy kit lint (hadolint, kubernetes-validate, promtool rules and tests, haproxy -c)" \
    bash scripts/deploy-lint.sh

# ---------------------------------------------------------------------------------------------

section "Summary"
for s in "${passed_steps[@]}"; do echo "  passed: $s"; done
for s in "${failed_steps[@]}"; do echo "  FAILED: $s"; done
echo "total: $(($(date +%s) - started_at))s"
if [ "${#failed_steps[@]}" -ne 0 ]; then
    exit 1
fi
echo "all checks passed"
