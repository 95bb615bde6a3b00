#!/usr/bin/env bash
# Load test of the release server on PostgreSQL (a benchmark, not a test: it prints numbers and
# asserts nothing about them). From the repository root:
#
#   bash bench/run.sh
#
# It recreates the database `fraiseql_bench` on 127.0.0.1:5432 with the blog demo data (the
# binary's own `migrate` and `seed`), builds and starts the release server on loopback, checks
# each query answers with data, then drives each query with wrk: a warm-up, then a measured run at
# fixed concurrency. It prints one table row per query and stops the server it started.
#
# Knobs (environment): BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_DURATION (10s),
# BENCH_WARMUP (3s), BENCH_PORT (18089), BENCH_PG (postgres://postgres@127.0.0.1:5432),
# BENCH_SCALE (10: `seed --scale 10`, 10k users / 100k posts / 300k comments, the data set of
# /work/shared/PERF-NOTES.md).
# The server, PostgreSQL and wrk share this machine's cores: numbers are for comparing runs on
# the same machine, not absolute capacity.
set -euo pipefail

cd "$(dirname "$0")/.."
repo_root=$(pwd)

connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-3s}
port=${BENCH_PORT:-18089}
scale=${BENCH_SCALE:-10}
pg_base=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
database_url="$pg_base/fraiseql_bench"
bin="$repo_root/target/release/fraiseql-blog"

die() {
    echo "bench: $*" >&2
    exit 1
}

command -v wrk >/dev/null 2>&1 || die "wrk not found: apt-get install -y wrk"
command -v psql >/dev/null 2>&1 || die "psql not found: apt-get install -y postgresql-client"
command -v curl >/dev/null 2>&1 || die "curl not found: apt-get install -y curl"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== build (release)"
cargo build --release --bin fraiseql-blog

echo "== database fraiseql_bench: recreate, migrate, seed"
psql -X -q -d "$pg_base/postgres" -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS fraiseql_bench" -c "CREATE DATABASE fraiseql_bench" >/dev/null
DATABASE_URL=$database_url "$bin" migrate
DATABASE_URL=$database_url "$bin" seed --scale "$scale"
psql -X -q -d "$database_url" -c "VACUUM ANALYZE" >/dev/null
psql -X -At -d "$database_url" \
    -c "SELECT 'rows: ' || (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM posts) || ' posts, ' || (SELECT count(*) FROM comments) || ' comments'"

echo "== server on 127.0.0.1:$port"
# FRAISEQL_CACHE (default off here): the benchmark measures the SQL path; `users` is cacheable,
# so with the result cache on every request after the first would be an L1 hit.
DATABASE_URL=$database_url FRAISEQL_BIND=127.0.0.1:$port RUST_LOG=${RUST_LOG:-warn} \
    FRAISEQL_CACHE=${FRAISEQL_CACHE:-off} \
    "$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port/graphql"
for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null -H 'content-type: application/json' \
        -d '{"query":"{ __typename }"}' "$url" 2>/dev/null; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server exited"; }
    sleep 0.5
done

# wrk script: POSTs $BENCH_BODY; counts responses that are not 200 or carry GraphQL errors, and
# reports the totals of all threads in one machine-readable line.
cat >"$work/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %d %.1f %.3f %.3f %d %d %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, socket, bad_total))
end
EOF

queries=(
    "users50|{ users(limit: 50) { id name } }"
    "nested|{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }"
)

# CPU time (clock ticks) a set of processes has used so far: utime + stime from /proc.
cpu_ticks() {
    local total=0 pid stat
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        # Fields after the ")" that ends the command name: state is 3rd, utime 14th, stime 15th.
        read -r -a fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}
# The database server's processes (postmaster and backends). Other clients of the same server
# add to this, so the database column is only meaningful on an otherwise idle machine.
pg_pids() {
    pgrep -u postgres -x postgres || true
}
ticks_per_second=$(getconf CLK_TCK)

rows=()
for entry in "${queries[@]}"; do
    name=${entry%%|*}
    query=${entry#*|}
    body=$(printf '{"query":"%s"}' "$query")
    # One request by hand first: a benchmark of error responses would be meaningless.
    answer=$(curl -fsS -H 'content-type: application/json' -d "$body" "$url") \
        || die "$name: request failed"
    case "$answer" in
        *'"errors"'* | *'"users":[]'*) die "$name: unexpected answer: ${answer:0:300}" ;;
        *'"users":[{'*) ;;
        *) die "$name: unexpected answer: ${answer:0:300}" ;;
    esac

    echo "== $name: warm-up $warmup, then $duration at $connections connections"
    BENCH_BODY=$body wrk -t "$threads" -c "$connections" -d "$warmup" -s "$work/post.lua" "$url" >/dev/null
    # shellcheck disable=SC2046 # one pid per word
    server_before=$(cpu_ticks "$server_pid") db_before=$(cpu_ticks $(pg_pids))
    out=$(BENCH_BODY=$body wrk -t "$threads" -c "$connections" -d "$duration" -s "$work/post.lua" "$url")
    # shellcheck disable=SC2046
    server_after=$(cpu_ticks "$server_pid") db_after=$(cpu_ticks $(pg_pids))
    result=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; die "$name: wrk printed no result"; }
    read -r _ requests rps p50 p99 non2xx socket bad <<<"$result"
    [ "$requests" -gt 0 ] || die "$name: no request completed"
    # Microseconds of CPU per request (tick resolution is 10 ms, so short runs are coarse).
    server_us=$(((server_after - server_before) * 1000000 / ticks_per_second / requests))
    db_us=$(((db_after - db_before) * 1000000 / ticks_per_second / requests))
    rows+=("$(printf '| %-8s | %10s | %9s | %9s | %10s | %10s | %s non-2xx, %s socket, %s non-200 or GraphQL errors |' \
        "$name" "$rps" "$p50" "$p99" "$server_us" "$db_us" "$non2xx" "$socket" "$bad")")
done

echo
echo "PostgreSQL $(psql -X -At -d "$database_url" -c 'SHOW server_version'), $(nproc) cores, wrk -t$threads -c$connections -d$duration"
echo "| query    |        RPS | p50 (ms)  | p99 (ms)  | server CPU | db CPU     | errors |"
echo "|          |            |           |           | µs/request | µs/request |        |"
echo "|----------|-----------:|----------:|----------:|-----------:|-----------:|--------|"
printf '%s\n' "${rows[@]}"
echo
echo "users50 = { users(limit: 50) { id name } }"
echo "nested  = { users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }"
