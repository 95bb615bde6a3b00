#!/usr/bin/env bash
# The performance benchmark: FraiseQL against three baselines on the same PostgreSQL data, one
# command, one table. A benchmark, not a test: it prints numbers and ratios, asserts nothing
# about them, and is never part of scripts/test.sh. From the repository root:
#
#   bash bench/run.sh                      # full run, about 8 minutes after the builds, then
#                                          # bench/scatter.sh, about 4 more (BENCH_SCATTER=0: not)
#   BENCH_DURATION=3 BENCH_ROUNDS=1 bash bench/run.sh     # a quick look, about 2 minutes
#
# What it does:
#  1. Builds the release server and the baselines (bench/baselines, their own workspace).
#  2. Starts a private PostgreSQL cluster (scripts/pg-instance.sh: pg_stat_statements preloaded)
#     on 127.0.0.1:$BENCH_PG_PORT in target/bench-pg, recreates the database fraiseql_bench and
#     seeds it with the binary's `seed --scale 10` (10,000 users, 100,000 posts, 300,000
#     comments), then VACUUM ANALYZE.
#  3. Starts five servers on loopback, all with the same actix worker count (the number of
#     cores) and the same pool size (BENCH_POOL sessions):
#       FraiseQL (FRAISEQL_CACHE=off)     :18089   the SQL path
#       FraiseQL (result cache on, L1)    :18090   cache hits
#       A: actix-web + tokio-postgres     :18091   hand-written, FraiseQL's exact SQL (ceiling)
#       B: async-graphql + DataLoader     :18092   the Rust GraphQL peer (sqlx)
#       C: static actix handler           :18093   the same bytes as a cache hit (its ceiling)
#  4. Checks the answers before measuring: A's bytes equal FraiseQL's for Q1-Q3 (Q2 with the
#     same id), B's answers equal FraiseQL's as JSON values, a cache hit equals the uncached
#     answer, and C serves those bytes.
#  5. Drives each (query, server) pair with wrk at fixed concurrency for a fixed time, after a
#     warm-up; BENCH_ROUNDS rounds, the servers of one query interleaved (order reversed every
#     other round) so that noise from other work on the machine falls on all of them alike.
#  6. Prints one row per (query, server) with medians over the rounds, then the ratios the
#     targets are stated in, each the median of the per-round ratios (both sides of a ratio
#     were measured seconds apart).
#  7. Then, unless BENCH_SCATTER=0, stops its servers and cluster and runs bench/scatter.sh
#     (issue 8's scatter-gather target: the sharded example over a primary + 3 shards against
#     one database, on its own private cluster, port 55438) with the same BENCH_DURATION,
#     BENCH_WARMUP, BENCH_ROUNDS and BENCH_POOL (its own wrk concurrency, BENCH_CONNECTIONS
#     default 8, since it compares latency), and appends its report to this one's
#     (BENCH_SCATTER_OUT, default target/bench/scatter.md, holds it alone).
#
# Queries: Q1 `{ users(limit: 50) { id name } }`; Q2 `user(id: $id) { id name }` with a random
# id per request (1..users); Q3 `users(limit: 50) → posts(limit: 5) → comments(limit: 3)`;
# Q1-hit: Q1 answered from FraiseQL's result cache (vs C).
#
# Columns: RPS; p50/p99 latency (wrk); errors = non-2xx + socket errors + bodies with
# "errors"; peak RSS of the server sampled every 250 ms under load; server and database CPU
# per request (/proc, clock ticks); SQL/req = statements the database executed per request
# (pg_stat_statements, reset before each measurement; FraiseQL's own
# `fraiseql_sql_statements_per_request` in brackets); parsed = documents FraiseQL parsed
# during the measurement (`fraiseql_documents_parsed_total`: 0 means the plan cache answered).
#
# Knobs (environment):
#   BENCH_DURATION  seconds measured per (query, server) per round (default 10)
#   BENCH_WARMUP    seconds of warm-up before each measurement (default 2)
#   BENCH_ROUNDS    rounds (default 3)
#   BENCH_CONNECTIONS  wrk connections (default 32);  BENCH_THREADS  wrk threads (default 2)
#   BENCH_POOL      pool size of every server (default 16)
#   BENCH_SCALE     seed scale (default 10)
#   BENCH_QUERIES   which queries, e.g. "Q1 Q3" (default "Q1 Q2 Q3 Q1-hit")
#   BENCH_PG_PORT   the private cluster's port (default 55439); BENCH_PG_DIR its data directory
#                   (default target/bench-pg). BENCH_PG=postgres://user@host:port uses an
#                   existing server instead (SQL/req then needs pg_stat_statements there, else
#                   it shows n/a: 1, 1 and 3 statements per request by construction for A)
#   BENCH_RESEED=0  keep an already seeded fraiseql_bench
#   BENCH_OUT       also write the report to this file (default target/bench/report.md)
#   BENCH_SCATTER=0 skip bench/scatter.sh at the end
# The load generator, the servers and PostgreSQL share this machine's cores: absolute numbers
# are for this machine; the ratios are what the targets are about.
set -euo pipefail

cd "$(dirname "$0")/.."
repo_root=$(pwd)
# shellcheck source=bench/lib.sh
source bench/lib.sh

seconds() { local v=${1%s}; case "$v" in '' | *[!0-9]*) echo "bench: $2 must be whole seconds, got '$1'" >&2; exit 2 ;; esac; echo "$v"; }
duration=$(seconds "${BENCH_DURATION:-10}" BENCH_DURATION)
warmup=$(seconds "${BENCH_WARMUP:-2}" BENCH_WARMUP)
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
pool=${BENCH_POOL:-16}
scale=${BENCH_SCALE:-10}
queries=${BENCH_QUERIES:-Q1 Q2 Q3 Q1-hit}
pg_port=${BENCH_PG_PORT:-55439}
pg_dir=${BENCH_PG_DIR:-$repo_root/target/bench-pg}
reseed=${BENCH_RESEED:-1}
report=${BENCH_OUT:-$repo_root/target/bench/report.md}
workers=$(nproc)

die() {
    echo "bench: $*" >&2
    exit 1
}
for tool in wrk psql curl jq cargo; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install -y wrk postgresql-client curl jq)"
done

work=$(mktemp -d)
declare -A pid_of=()
cleanup() {
    bench_stop_servers "${pid_of[@]}"
    if [ -z "${BENCH_PG:-}" ]; then
        bash "$repo_root/scripts/pg-instance.sh" stop "$pg_port" "$pg_dir" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== build (release): fraiseql-blog and bench/baselines"
cargo build --release --quiet --bin fraiseql-blog
cargo build --release --quiet --manifest-path bench/baselines/Cargo.toml
root_target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
base_target=$(cargo metadata --format-version 1 --no-deps --manifest-path bench/baselines/Cargo.toml | jq -r .target_directory)
fraiseql="$root_target/release/fraiseql-blog"
handwritten="$base_target/release/bench-handwritten"
peer="$base_target/release/bench-async-graphql"
static_server="$base_target/release/bench-static"

echo "== PostgreSQL"
if [ -n "${BENCH_PG:-}" ]; then
    pg_base=$BENCH_PG
else
    bash scripts/pg-instance.sh start "$pg_port" "$pg_dir"
    pg_base="postgres://postgres@127.0.0.1:$pg_port"
fi
database_url="$pg_base/fraiseql_bench"
admin() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$pg_base/postgres" "$@"; }
if [ "$reseed" != 0 ] || ! psql -X -q -At -d "$database_url" -c "SELECT 1 FROM users LIMIT 1" >/dev/null 2>&1; then
    admin -c "DROP DATABASE IF EXISTS fraiseql_bench" -c "CREATE DATABASE fraiseql_bench" >/dev/null
    DATABASE_URL=$database_url "$fraiseql" migrate >/dev/null
    DATABASE_URL=$database_url "$fraiseql" seed --scale "$scale"
    psql -X -q -d "$database_url" -c "VACUUM ANALYZE" >/dev/null
fi
users=$(psql -X -At -d "$database_url" -c "SELECT count(*) FROM users")
psql -X -At -d "$database_url" \
    -c "SELECT 'rows: ' || (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM posts) || ' posts, ' || (SELECT count(*) FROM comments) || ' comments'"
pg_version=$(psql -X -At -d "$database_url" -c "SHOW server_version")
# pg_stat_statements: counted in database `postgres` (where the extension is created), for
# statements run in fraiseql_bench only (these monitoring queries run in `postgres`).
statements_available=0
if admin -c "SELECT 1 FROM pg_stat_statements LIMIT 1" >/dev/null 2>&1; then
    statements_available=1
fi
bench_db_oid=$(admin -c "SELECT oid FROM pg_database WHERE datname = 'fraiseql_bench'")
# The database server's processes: the private cluster's postmaster and its children (with
# BENCH_PG, every `postgres` process on the machine, which other clients may share).
pg_pids() {
    if [ -z "${BENCH_PG:-}" ] && [ -r "$pg_dir/postmaster.pid" ]; then
        local postmaster
        postmaster=$(head -n 1 "$pg_dir/postmaster.pid")
        echo "$postmaster"
        pgrep -P "$postmaster" || true
    else
        pgrep -u postgres -x postgres || true
    fi
}

echo "== servers ($workers workers each, pool $pool)"
q1='{ users(limit: 50) { id name } }'
# shellcheck disable=SC2016 # GraphQL variables, not shell
q2='query ($id: ID!) { user(id: $id) { id name } }'
q3='{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }'
body_q1=$(jq -cn --arg q "$q1" '{query: $q}')
body_q2_42=$(jq -cn --arg q "$q2" '{query: $q, variables: {id: "42"}}')
body_q3=$(jq -cn --arg q "$q3" '{query: $q}')

declare -A port_of=([fraiseql]=18089 [fraiseql-cached]=18090 [A]=18091 [B]=18092 [C]=18093)
declare -A label_of=(
    [fraiseql]="FraiseQL"
    [fraiseql-cached]="FraiseQL, cache hit"
    [A]="A: actix + tokio-postgres"
    [B]="B: async-graphql + DataLoader"
    [C]="C: static bytes"
)
url_of() { echo "http://127.0.0.1:${port_of[$1]}/graphql"; }
post() { curl -fsS -H 'content-type: application/json' -H 'accept: application/json' -d "$2" "$(url_of "$1")"; }

start() {
    local name=$1
    shift
    env -u REDIS_URL -u NATS_URL -u DATABASE_URL_REPLICA -u DATABASE_URL_PRIMARY \
        DATABASE_URL="$database_url" FRAISEQL_POOL_MAX="$pool" BENCH_WORKERS="$workers" \
        BENCH_BIND="127.0.0.1:${port_of[$name]}" FRAISEQL_BIND="127.0.0.1:${port_of[$name]}" \
        RUST_LOG=warn "$@" >"$work/$name.log" 2>&1 &
    pid_of[$name]=$!
}
wait_ready() {
    local name=$1 _
    for _ in $(seq 1 120); do
        if post "$name" "$body_q1" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "${pid_of[$name]}" 2>/dev/null || { cat "$work/$name.log" >&2; die "${label_of[$name]} exited"; }
        sleep 0.5
    done
    die "${label_of[$name]} did not answer"
}
start fraiseql env FRAISEQL_CACHE=off "$fraiseql" serve
start fraiseql-cached env FRAISEQL_CACHE=on "$fraiseql" serve
start A "$handwritten"
start B "$peer"
for name in fraiseql fraiseql-cached A B; do wait_ready "$name"; done

echo "== answers"
check_same() {
    local what=$1 body=$2 ours theirs
    ours=$(post fraiseql "$body") || die "$what: FraiseQL failed"
    case "$ours" in *'"errors"'* | *'{"data":{"user":null}}'* | *'"users":[]'*) die "$what: unexpected answer: ${ours:0:300}" ;; esac
    theirs=$(post A "$body") || die "$what: A failed"
    [ "$ours" == "$theirs" ] || die "$what: A's bytes differ from FraiseQL's"
    theirs=$(post B "$body") || die "$what: B failed"
    [ "$(jq -S . <<<"$ours")" == "$(jq -S . <<<"$theirs")" ] || die "$what: B's answer differs from FraiseQL's"
    echo "$what: A byte-identical, B equal as JSON (${#ours} bytes)"
}
check_same Q1 "$body_q1"
check_same "Q2 (id 42)" "$body_q2_42"
check_same Q3 "$body_q3"
uncached=$(post fraiseql "$body_q1")
post fraiseql-cached "$body_q1" >/dev/null
hit_headers="$work/hit.headers"
curl -fsS -D "$hit_headers" -o "$work/hit.body" -H 'content-type: application/json' \
    -H 'accept: application/json' -d "$body_q1" "$(url_of fraiseql-cached)"
[ "$(cat "$work/hit.body")" == "$uncached" ] || die "a cache hit differs from the uncached answer"
etag=$(awk 'tolower($1) == "etag:" { sub(/\r$/, "", $2); print $2 }' "$hit_headers")
start C env BENCH_BODY_FILE="$work/hit.body" BENCH_ETAG="$etag" "$static_server"
wait_ready C
[ "$(post C "$body_q1")" == "$uncached" ] || die "C does not serve the cached bytes"
echo "Q1-hit: FraiseQL's cache hit equals its uncached answer; C serves the same bytes"

bench_wrk_scripts "$work"
template_q2=$(jq -cn --arg q "$q2" '{query: $q, variables: {id: "ID"}}' | sed 's/"ID"}/"%d"}/')

ticks_per_second=$(getconf CLK_TCK)
metric() { # metric <name> <series>: one value of FraiseQL's /metrics, 0 when absent
    curl -fsS "http://127.0.0.1:${port_of[$1]}/metrics" | awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }'
}
sampler() { # sampler <pid> <file>: the peak VmRSS (kB) until <file>.stop exists
    local max=0 v
    while [ ! -e "$2.stop" ]; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0)
        [ "${v:-0}" -gt "$max" ] && max=$v && echo "$max" >"$2"
        sleep 0.25
    done
}
drive() { # drive <query> <url> <seconds>
    local query=$1 url=$2 secs=$3
    case "$query" in
        Q2) BENCH_TEMPLATE=$template_q2 BENCH_MAX_ID=$users \
            wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/random-id.lua" "$url" ;;
        Q3) BENCH_BODY=$body_q3 wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/fixed.lua" "$url" ;;
        *) BENCH_BODY=$body_q1 wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/fixed.lua" "$url" ;;
    esac
}

results="$work/results.jsonl"
: >"$results"
measure() { # measure <round> <query> <server>
    local round=$1 query=$2 name=$3 pid url out result requests rps p50 p99 errors
    pid=${pid_of[$name]}
    url=$(url_of "$name")
    if [ "$warmup" -gt 0 ]; then
        drive "$query" "$url" "$warmup" >/dev/null
    fi
    local ours=0 sum0=0 count0=0 parsed0=0
    case "$name" in fraiseql*) ours=1 ;; esac
    if [ "$ours" = 1 ]; then
        sum0=$(metric "$name" fraiseql_sql_statements_per_request_sum)
        count0=$(metric "$name" fraiseql_sql_statements_per_request_count)
        parsed0=$(metric "$name" fraiseql_documents_parsed_total)
    fi
    if [ "$statements_available" = 1 ]; then
        admin -c "SELECT pg_stat_statements_reset()" >/dev/null
    fi
    rm -f "$work/rss" "$work/rss.stop"
    sampler "$pid" "$work/rss" &
    local sampler_pid=$!
    local cpu0 db0 cpu1 db1
    cpu0=$(bench_cpu_ticks "$pid")
    # shellcheck disable=SC2046 # one pid per word
    db0=$(bench_cpu_ticks $(pg_pids))
    out=$(drive "$query" "$url" "$duration")
    cpu1=$(bench_cpu_ticks "$pid")
    # shellcheck disable=SC2046
    db1=$(bench_cpu_ticks $(pg_pids))
    touch "$work/rss.stop"
    wait "$sampler_pid" 2>/dev/null || true
    result=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; die "$query on ${label_of[$name]}: wrk printed no result"; }
    read -r _ requests rps p50 p99 errors <<<"$result"
    [ "$requests" -gt 0 ] || die "$query on ${label_of[$name]}: no request completed"
    local statements=null metric_statements=null parsed=null
    if [ "$statements_available" = 1 ]; then
        statements=$(admin -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = $bench_db_oid")
        statements=$(awk -v s="$statements" -v r="$requests" 'BEGIN { printf "%.3f", s / r }')
    fi
    if [ "$ours" = 1 ]; then
        local sum1 count1 parsed1
        sum1=$(metric "$name" fraiseql_sql_statements_per_request_sum)
        count1=$(metric "$name" fraiseql_sql_statements_per_request_count)
        parsed1=$(metric "$name" fraiseql_documents_parsed_total)
        metric_statements=$(awk -v a="$sum0" -v b="$sum1" -v c="$count0" -v d="$count1" \
            'BEGIN { n = d - c; printf "%.3f", (n > 0 ? (b - a) / n : 0) }')
        parsed=$(awk -v a="$parsed0" -v b="$parsed1" 'BEGIN { printf "%d", b - a }')
    fi
    jq -cn --argjson round "$round" --arg query "$query" --arg server "$name" \
        --argjson requests "$requests" --argjson rps "$rps" --argjson p50 "$p50" --argjson p99 "$p99" \
        --argjson errors "$errors" --argjson rss_kb "$(cat "$work/rss" 2>/dev/null || echo 0)" \
        --argjson cpu_us "$(((cpu1 - cpu0) * 1000000 / ticks_per_second / requests))" \
        --argjson db_us "$(((db1 - db0) * 1000000 / ticks_per_second / requests))" \
        --argjson statements "$statements" --argjson metric_statements "$metric_statements" \
        --argjson parsed "$parsed" \
        '{round: $round, query: $query, server: $server, requests: $requests, rps: $rps, p50: $p50,
          p99: $p99, errors: $errors, rss_kb: $rss_kb, cpu_us: $cpu_us, db_us: $db_us,
          statements: $statements, metric_statements: $metric_statements, parsed: $parsed}' >>"$results"
    printf '  round %s %-6s %-30s %9.1f req/s  p50 %7.3f ms  p99 %8.3f ms  errors %s\n' \
        "$round" "$query" "${label_of[$name]}" "$rps" "$p50" "$p99" "$errors"
}

servers_for() {
    case "$1" in
        Q1-hit) echo "fraiseql-cached C" ;;
        *) echo "fraiseql A B" ;;
    esac
}
total=0
for query in $queries; do
    # shellcheck disable=SC2046
    set -- $(servers_for "$query")
    total=$((total + $#))
done
echo "== measuring: $rounds round(s) x $total runs x (${warmup}s warm-up + ${duration}s), wrk -t$threads -c$connections"
started=$(date +%s)
for round in $(seq 1 "$rounds"); do
    for query in $queries; do
        order=$(servers_for "$query")
        if [ $((round % 2)) = 0 ]; then
            order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' ')
        fi
        for name in $order; do
            measure "$round" "$query" "$name"
        done
    done
done
elapsed=$(($(date +%s) - started))

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
labels_json=$(for name in "${!label_of[@]}"; do jq -cn --arg k "$name" --arg v "${label_of[$name]}" '{($k): $v}'; done | jq -cs add)
mkdir -p "$(dirname "$report")"
{
    echo "Machine: $(nproc) cores ($cpu_model), $mem_total, Linux $(uname -r); PostgreSQL $pg_version;"
    echo "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2); $(rustc --version | cut -d' ' -f1-2)."
    echo "Run: \`BENCH_DURATION=$duration BENCH_ROUNDS=$rounds bash bench/run.sh\` at $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo ' + local changes'),"
    echo "$rounds round(s) x ${duration}s per (query, server) after ${warmup}s warm-up, wrk -t$threads -c$connections, $workers actix workers and pool $pool"
    echo "for every server; $users users. Measuring took ${elapsed}s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    jq -rs --argjson labels "$labels_json" '
      def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def f(d): if . == null then "n/a" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
      def ms: if . == null then "n/a" else (if . < 10 then f(2) else f(1) end) end;
      . as $all
      | "| query | server | RPS | p50 ms | p99 ms | errors | peak RSS MB | server CPU µs/req | db CPU µs/req | SQL/req | parsed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        (["Q1", "Q2", "Q3", "Q1-hit"][] as $q
         | ["fraiseql", "fraiseql-cached", "A", "B", "C"][] as $s
         | [$all[] | select(.query == $q and .server == $s)]
         | select(length > 0)
         | . as $g
         | ($g | map(.statements) | map(select(. != null)) | median) as $sql
         | ($g | map(.metric_statements) | map(select(. != null)) | median) as $msql
         | "| \($q) | \($labels[$s]) | \($g | map(.rps) | median | f(0))"
           + " | \($g | map(.p50) | median | ms) | \($g | map(.p99) | median | ms)"
           + " | \($g | map(.errors) | add) | \($g | map(.rss_kb) | max / 1024 | f(1))"
           + " | \($g | map(.cpu_us) | median | f(0)) | \($g | map(.db_us) | median | f(0))"
           + " | \($sql | f(2))\(if $msql == null then "" else " [\($msql | f(2))]" end)"
           + " | \(if $g[0].parsed == null then "" else ($g | map(.parsed) | add | tostring) end) |")
    ' "$results"
    echo
    echo "Ratios (RPS of FraiseQL / RPS of the baseline, per round; the median decides):"
    echo
    jq -rs '
      def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def f2: (. * 100 | round / 100 | tostring);
      . as $all
      | def ratio($q; $ours; $base):
          [$all[] | select(.query == $q and .server == $ours)] as $a
          | [$a[] | .round as $r | .rps / ([$all[] | select(.query == $q and .server == $base and .round == $r)][0].rps // null)]
          | map(select(. != null));
        [["Q1", "fraiseql", "A", 0.85], ["Q2", "fraiseql", "A", 0.85], ["Q3", "fraiseql", "A", 0.9],
         ["Q1", "fraiseql", "B", 1.5], ["Q2", "fraiseql", "B", 1.5], ["Q3", "fraiseql", "B", 1.5],
         ["Q1-hit", "fraiseql-cached", "C", 0.8]] as $targets
      | "| ratio | target | median | per round | met |",
        "|---|---:|---:|---|---|",
        ($targets[] | . as [$q, $ours, $base, $want]
         | ratio($q; $ours; $base) as $rs
         | select($rs | length > 0)
         | ($rs | median) as $m
         | "| \($q): FraiseQL / \($base) | ≥ \($want) | \($m | f2) | \($rs | map(f2) | join(", ")) | \(if $m >= $want then "yes" else "**no**" end) |"),
        ([$all[] | select(.server | startswith("fraiseql")) | .rss_kb] | max / 1024) as $rss
        | "| FraiseQL peak RSS under load | < 32 MB | \($rss | f2) MB | | \(if $rss < 32 then "yes" else "**no**" end) |",
        ([$all[] | select(.server | startswith("fraiseql")) | .parsed] | add) as $parsed
        | "| documents parsed while measuring (all repeated) | 0 | \($parsed) | | \(if $parsed == 0 then "yes" else "**no**" end) |"
    ' "$results"
} | tee "$report.tmp"
mv "$report.tmp" "$report"
cp "$results" "${report%.md}.jsonl"
echo
echo "(report written to $report; raw measurements in ${report%.md}.jsonl)"

# The scatter-gather benchmark, on its own cluster: this one's servers and cluster are stopped
# first so that they take no memory or CPU from it. BENCH_CONNECTIONS is not passed: scatter.sh
# compares latency at its own, modest concurrency.
if [ "${BENCH_SCATTER:-1}" != 0 ]; then
    cleanup
    trap - EXIT
    scatter_report=${BENCH_SCATTER_OUT:-$repo_root/target/bench/scatter.md}
    echo
    echo "== bench/scatter.sh (BENCH_SCATTER=0 skips it)"
    env -u BENCH_CONNECTIONS BENCH_DURATION="$duration" BENCH_WARMUP="$warmup" BENCH_ROUNDS="$rounds" \
        BENCH_POOL="$pool" BENCH_SCATTER_OUT="$scatter_report" bash bench/scatter.sh
    { echo; cat "$scatter_report"; } >>"$report"
    echo "(scatter report appended to $report)"
fi
