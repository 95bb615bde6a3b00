#!/usr/bin/env bash
# The scatter-gather benchmark (issue 8's target: "a scatter-gather list over 3 shards < 1.5 x
# the single-database latency"). The sharded example (examples/sharded) on one database and on
# a primary plus three shards, the same rows in both, measured side by side. A benchmark, not a
# test: it prints numbers and ratios, asserts nothing about them, and is never part of
# scripts/test.sh. From the repository root:
#
#   bash bench/scatter.sh                  # full run, about 4 minutes after the build
#   BENCH_DURATION=3 BENCH_ROUNDS=1 bash bench/scatter.sh    # a quick look, about 1 minute
#
# bench/run.sh runs it at its end (unless BENCH_SCATTER=0).
#
# What it does:
#  1. Builds the release binary of examples/sharded (`sharded`).
#  2. Starts a private PostgreSQL cluster (scripts/pg-instance.sh) on 127.0.0.1:$BENCH_SCATTER_PG_PORT
#     in target/bench-scatter-pg with five databases: scatter_single (every table), and
#     scatter_primary (countries) + scatter_shard0..2 (users and posts). All five live in that
#     one cluster: the three shards share this machine's cores (and the single database's), so
#     this measures the merge's overhead and fan-out, not the capacity three machines would add.
#  3. Seeds once with SQL (`seed` refuses to fill shards): 5 countries, 10,000 users
#     (country_id = 1 + id % 5, deterministic names, scores and created_at) and 10 posts per user
#     (100,000), generated with generate_series in scatter_single; countries are copied to the
#     primary, and each user with its posts to shard jump(splitmix64(id), 3) (the README's
#     Python function, computed by python3 here), through `\copy`. VACUUM ANALYZE everywhere.
#     The placement is checked against the binary (`sharded shard-of User <id>`) for a handful
#     of ids, and the row counts per shard against the computed placement.
#  4. Starts two servers on loopback at once, both FRAISEQL_CACHE=off with pool BENCH_POOL
#     (each shard has its own pool of that size) and the same actix worker count (the default,
#     the number of cores):
#       single   DATABASE_URL=scatter_single                                   :18094
#       sharded  DATABASE_URL=scatter_primary, DATABASE_URL_SHARDS=shard0..2   :18095
#     (FRAISEQL_SHARD_RANGES is set for the sharded one only because the schema's Account type
#     is RANGE-sharded; no account rows exist and no query here reads them.)
#  5. Checks the answers before measuring: for S1, S2 and S3 (id 42) the two servers give the
#     same JSON (README: the merge gives exactly what one database gives, order included).
#  6. Drives each (query, setup) pair with wrk at fixed, modest concurrency (a latency
#     comparison) for a fixed time after a warm-up; BENCH_ROUNDS rounds, the two setups of one
#     query interleaved (order reversed every other round).
#  7. Prints one row per (query, setup) with medians over the rounds, then the ratios
#     sharded / single of p50 and p99 per query, per round and their median, and the target.
#
# Queries: S1 `{ users(limit: 50) { id name } }` (the scatter-gather list: every shard returns
# its first 50, the server merges by id and keeps 50); S2 `{ users(limit: 50) { id name
# posts(limit: 5) { id title } } }` (S1 plus a co-located nested level: one statement per shard
# holding some of the 50 users); S3 `query ($id: ID!) { user(id: $id) { id name } }` with a
# random id 1..10000 per request (a by-key lookup routed to one shard), as a reference.
#
# Columns: RPS; p50/p99 latency (wrk); errors = non-2xx + socket errors + bodies with
# "errors"; SQL/req = statements per request from the server's /metrics
# (fraiseql_sql_statements_per_request sum/count deltas), and in brackets as the databases
# counted them (pg_stat_statements, reset before each measurement) per database: p = primary,
# s0-s2 = shards, db = scatter_single; SQL ms = the server's mean time per statement, as it
# waits for it (fraiseql_sql_duration_seconds sum/count deltas, all routes); PG exec ms = the
# mean execution time per statement inside each database (pg_stat_statements); server and
# database CPU per request (/proc, clock ticks; the database is the whole private cluster).
#
# Knobs (environment):
#   BENCH_DURATION  seconds measured per (query, setup) per round (default 10)
#   BENCH_WARMUP    seconds of warm-up before each measurement (default 2)
#   BENCH_ROUNDS    rounds (default 3)
#   BENCH_CONNECTIONS  wrk connections (default 8);  BENCH_THREADS  wrk threads (default 2)
#   BENCH_POOL      FRAISEQL_POOL_MAX of both servers (default 16)
#   BENCH_RESEED=0  reuse the seeded databases when their row counts are right
#   BENCH_SCATTER_PG_PORT  the private cluster's port (default 55438);
#   BENCH_SCATTER_PG_DIR   its data directory (default target/bench-scatter-pg)
#   BENCH_SCATTER_OUT      also write the report to this file (default target/bench/scatter.md)
# The load generator, both servers and PostgreSQL share this machine's cores: absolute numbers
# are for this machine; the ratios are what the target is about.
set -euo pipefail

cd "$(dirname "$0")/.."
repo_root=$(pwd)
# shellcheck source=bench/lib.sh
source bench/lib.sh

seconds() { local v=${1%s}; case "$v" in '' | *[!0-9]*) echo "scatter: $2 must be whole seconds, got '$1'" >&2; exit 2 ;; esac; echo "$v"; }
duration=$(seconds "${BENCH_DURATION:-10}" BENCH_DURATION)
warmup=$(seconds "${BENCH_WARMUP:-2}" BENCH_WARMUP)
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-8}
threads=${BENCH_THREADS:-2}
pool=${BENCH_POOL:-16}
pg_port=${BENCH_SCATTER_PG_PORT:-55438}
pg_dir=${BENCH_SCATTER_PG_DIR:-$repo_root/target/bench-scatter-pg}
reseed=${BENCH_RESEED:-1}
report=${BENCH_SCATTER_OUT:-$repo_root/target/bench/scatter.md}
users=10000
posts_per_user=10
countries=5
shards=3
# Account is sharded by RANGE in the example schema, so a sharded server needs ranges; no
# account rows exist.
shard_ranges="1-1000000,1000001-2000000,2000001-"

die() {
    echo "scatter: $*" >&2
    exit 1
}
for tool in wrk psql curl jq cargo python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install -y wrk postgresql-client curl jq python3)"
done

work=$(mktemp -d)
declare -A pid_of=()
cleanup() {
    bench_stop_servers "${pid_of[@]}"
    bash "$repo_root/scripts/pg-instance.sh" stop "$pg_port" "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== build (release): sharded"
cargo build --release --quiet -p sharded
target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
sharded="$target_dir/release/sharded"

echo "== PostgreSQL"
bash scripts/pg-instance.sh start "$pg_port" "$pg_dir"
pg_base="postgres://postgres@127.0.0.1:$pg_port"
admin() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$pg_base/postgres" "$@"; }
sql() { # sql <database> <psql args...>
    local db=$1
    shift
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$pg_base/$db" "$@"
}
shard_dbs=()
shard_urls=()
for i in $(seq 0 $((shards - 1))); do
    shard_dbs+=("scatter_shard$i")
    shard_urls+=("$pg_base/scatter_shard$i")
done
shards_env=$(IFS=,; echo "${shard_urls[*]}")
all_dbs=(scatter_single scatter_primary "${shard_dbs[@]}")
# The environments of the binary: `env` then execs it, so `$!` is the server's own pid.
unset_vars=(-u REDIS_URL -u NATS_URL -u DATABASE_URL_REPLICA -u DATABASE_URL_PRIMARY)
single_env=(env "${unset_vars[@]}" -u DATABASE_URL_SHARDS -u FRAISEQL_SHARD_RANGES
    DATABASE_URL="$pg_base/scatter_single")
sharded_env=(env "${unset_vars[@]}" DATABASE_URL="$pg_base/scatter_primary"
    DATABASE_URL_SHARDS="$shards_env" FRAISEQL_SHARD_RANGES="$shard_ranges")

# Where each user lives: "<id> <shard>" per line, the README's function.
placement="$work/placement"
python3 - "$users" "$shards" >"$placement" <<'EOF'
import sys
M = 2**64 - 1
def shard(key, n):
    z = (key + 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    z ^= z >> 31
    b, j = -1, 0
    while j < n:
        b, z = j, (z * 2862933555777941757 + 1) & M
        j = int((b + 1) * (float(1 << 31) / float((z >> 33) + 1)))
    return b
users, shards = int(sys.argv[1]), int(sys.argv[2])
for key in range(1, users + 1):
    print(key, shard(key, shards))
EOF
ids_on() { awk -v s="$1" '$2 == s { print $1 }' "$placement" | paste -sd, -; }
count_on() { awk -v s="$1" '$2 == s { n++ } END { print n + 0 }' "$placement"; }

seeded() { # the row counts every database should hold
    local i
    [ "$(sql scatter_single -c "SELECT (SELECT count(*) FROM countries) || ' ' || (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM posts)" 2>/dev/null)" == "$countries $users $((users * posts_per_user))" ] || return 1
    [ "$(sql scatter_primary -c "SELECT count(*) FROM countries" 2>/dev/null)" == "$countries" ] || return 1
    for i in $(seq 0 $((shards - 1))); do
        [ "$(sql "scatter_shard$i" -c "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM posts)" 2>/dev/null)" == "$(count_on "$i") $(($(count_on "$i") * posts_per_user))" ] || return 1
    done
}

seed() {
    local db i ids
    for db in "${all_dbs[@]}"; do
        admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    done
    "${single_env[@]}" "$sharded" migrate >/dev/null
    "${sharded_env[@]}" "$sharded" migrate >/dev/null
    sql scatter_single <<EOF
INSERT INTO countries (id, name)
  SELECT c, (ARRAY['Chile', 'Norway', 'Peru', 'Japan', 'Kenya'])[c] FROM generate_series(1, $countries) AS c;
INSERT INTO users (id, name, nickname, score, created_at, country_id)
  SELECT u, 'user ' || lpad(u::text, 5, '0'),
         CASE WHEN u % 3 = 0 THEN NULL ELSE 'nick' || u END,
         (u * 7919) % 1000,
         timestamptz '2024-01-01 00:00:00+00' + u * interval '1 minute',
         1 + u % $countries
  FROM generate_series(1, $users) AS u;
INSERT INTO posts (id, title, rating, published, user_id)
  SELECT p, 'post ' || p || ' by user ' || (1 + (p - 1) / $posts_per_user),
         CASE WHEN p % 4 = 0 THEN NULL ELSE ((p * 37) % 50) / 10.0 END,
         p % 5 <> 0,
         1 + (p - 1) / $posts_per_user
  FROM generate_series(1, $users * $posts_per_user) AS p;
EOF
    sql scatter_single -c '\copy countries TO pstdout' | sql scatter_primary -c '\copy countries FROM pstdin'
    for i in $(seq 0 $((shards - 1))); do
        ids=$(ids_on "$i")
        sql scatter_single -c "\\copy (SELECT * FROM users WHERE id = ANY('{$ids}') ORDER BY id) TO pstdout" |
            sql "scatter_shard$i" -c '\copy users FROM pstdin'
        sql scatter_single -c "\\copy (SELECT * FROM posts WHERE user_id = ANY('{$ids}') ORDER BY id) TO pstdout" |
            sql "scatter_shard$i" -c '\copy posts FROM pstdin'
    done
    for db in "${all_dbs[@]}"; do
        sql "$db" -c "VACUUM ANALYZE"
    done
}

if [ "$reseed" != 0 ] || ! seeded; then
    echo "seeding: $users users, $((users * posts_per_user)) posts, $countries countries"
    seed
    seeded || die "the databases do not hold the expected rows after seeding"
else
    echo "reusing the seeded databases (BENCH_RESEED=0)"
fi
per_shard=""
for i in $(seq 0 $((shards - 1))); do
    per_shard+="${per_shard:+, }shard$i $(count_on "$i")"
done
echo "rows: scatter_single $users users, $((users * posts_per_user)) posts; users per shard: $per_shard"

# The binary must place keys where this script did.
for id in 1 2 3 42 777 5000 9999 10000; do
    ours=$(awk -v k="$id" '$1 == k { print "shard-" $2 }' "$placement")
    theirs=$("${sharded_env[@]}" "$sharded" shard-of User "$id" 2>&1) || die "shard-of User $id failed: $theirs"
    [ "$theirs" == "$ours" ] || die "placement disagrees for user $id: python3 says $ours, \`sharded shard-of User $id\` says '$theirs'"
    [ "$(sql "scatter_${ours/-/}" -c "SELECT count(*) FROM users WHERE id = $id")" == 1 ] ||
        die "user $id is not on scatter_${ours/-/}"
done
echo "placement: python3 and \`sharded shard-of User\` agree for ids 1 2 3 42 777 5000 9999 10000"
pg_version=$(sql scatter_single -c "SHOW server_version")
statements_available=0
if admin -c "SELECT 1 FROM pg_stat_statements LIMIT 1" >/dev/null 2>&1; then
    statements_available=1
fi
pg_pids() { # the private cluster's postmaster and its children
    local postmaster
    [ -r "$pg_dir/postmaster.pid" ] || return 0
    postmaster=$(head -n 1 "$pg_dir/postmaster.pid")
    echo "$postmaster"
    pgrep -P "$postmaster" || true
}

echo "== servers (pool $pool)"
s1='{ users(limit: 50) { id name } }'
s2='{ users(limit: 50) { id name posts(limit: 5) { id title } } }'
# shellcheck disable=SC2016 # GraphQL variables, not shell
s3='query ($id: ID!) { user(id: $id) { id name } }'
body_s1=$(jq -cn --arg q "$s1" '{query: $q}')
body_s2=$(jq -cn --arg q "$s2" '{query: $q}')
body_s3_42=$(jq -cn --arg q "$s3" '{query: $q, variables: {id: "42"}}')
template_s3=$(jq -cn --arg q "$s3" '{query: $q, variables: {id: "ID"}}' | sed 's/"ID"}/"%d"}/')

declare -A port_of=([single]=18094 [sharded]=18095)
declare -A label_of=([single]="single database" [sharded]="primary + $shards shards")
url_of() { echo "http://127.0.0.1:${port_of[$1]}/graphql"; }
post() { curl -fsS -H 'content-type: application/json' -H 'accept: application/json' -d "$2" "$(url_of "$1")"; }
start() { # start <name> <env command...>
    local name=$1
    shift
    "$@" FRAISEQL_CACHE=off FRAISEQL_POOL_MAX="$pool" FRAISEQL_BIND="127.0.0.1:${port_of[$name]}" \
        RUST_LOG=warn "$sharded" serve >"$work/$name.log" 2>&1 &
    pid_of[$name]=$!
}
wait_ready() {
    local name=$1 _
    for _ in $(seq 1 120); do
        if post "$name" "$body_s1" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "${pid_of[$name]}" 2>/dev/null || { cat "$work/$name.log" >&2; die "${label_of[$name]} exited"; }
        sleep 0.5
    done
    die "${label_of[$name]} did not answer"
}
start single "${single_env[@]}"
start sharded "${sharded_env[@]}"
wait_ready single
wait_ready sharded

echo "== answers"
# The README promises the merged answer is exactly what one database gives, order included, so
# the two must be equal as JSON values; byte equality is reported, not required.
check_same() {
    local what=$1 body=$2 ours theirs
    ours=$(post single "$body") || die "$what: the single-database server failed"
    case "$ours" in *'"errors"'* | *'{"data":{"user":null}}'* | *'"users":[]'*) die "$what: unexpected answer: ${ours:0:300}" ;; esac
    theirs=$(post sharded "$body") || die "$what: the sharded server failed"
    [ "$(jq -S . <<<"$ours")" == "$(jq -S . <<<"$theirs")" ] ||
        die "$what: the sharded answer differs from the single-database one:
single:  ${ours:0:300}
sharded: ${theirs:0:300}"
    if [ "$ours" == "$theirs" ]; then
        echo "$what: byte-identical (${#ours} bytes)"
    else
        echo "$what: equal as JSON (${#ours} and ${#theirs} bytes)"
    fi
}
check_same S1 "$body_s1"
check_same S2 "$body_s2"
check_same "S3 (id 42)" "$body_s3_42"

bench_wrk_scripts "$work"

ticks_per_second=$(getconf CLK_TCK)
metric() { # metric <server> <name>: the sum of every series of one metric of /metrics, 0 when absent
    curl -fsS "http://127.0.0.1:${port_of[$1]}/metrics" |
        awk -v m="$2" '{ n = $1; sub(/\{.*/, "", n) } n == m { s += $2 } END { printf "%.9f\n", s }'
}
drive() { # drive <query> <url> <seconds>
    local query=$1 url=$2 secs=$3
    case "$query" in
        S3) BENCH_TEMPLATE=$template_s3 BENCH_MAX_ID=$users \
            wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/random-id.lua" "$url" ;;
        S2) BENCH_BODY=$body_s2 wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/fixed.lua" "$url" ;;
        *) BENCH_BODY=$body_s1 wrk -t "$threads" -c "$connections" -d "${secs}s" -s "$work/fixed.lua" "$url" ;;
    esac
}

results="$work/results.jsonl"
: >"$results"
measure() { # measure <round> <query> <setup>
    local round=$1 query=$2 name=$3 pid url out result requests rps p50 p99 errors
    pid=${pid_of[$name]}
    url=$(url_of "$name")
    if [ "$warmup" -gt 0 ]; then
        drive "$query" "$url" "$warmup" >/dev/null
    fi
    local sum0 count0 t_sum0 t_count0
    sum0=$(metric "$name" fraiseql_sql_statements_per_request_sum)
    count0=$(metric "$name" fraiseql_sql_statements_per_request_count)
    t_sum0=$(metric "$name" fraiseql_sql_duration_seconds_sum)
    t_count0=$(metric "$name" fraiseql_sql_duration_seconds_count)
    if [ "$statements_available" = 1 ]; then
        admin -c "SELECT pg_stat_statements_reset()" >/dev/null
    fi
    local cpu0 db0 cpu1 db1
    cpu0=$(bench_cpu_ticks "$pid")
    # shellcheck disable=SC2046 # one pid per word
    db0=$(bench_cpu_ticks $(pg_pids))
    out=$(drive "$query" "$url" "$duration")
    cpu1=$(bench_cpu_ticks "$pid")
    # shellcheck disable=SC2046
    db1=$(bench_cpu_ticks $(pg_pids))
    result=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; die "$query on ${label_of[$name]}: wrk printed no result"; }
    read -r _ requests rps p50 p99 errors <<<"$result"
    [ "$requests" -gt 0 ] || die "$query on ${label_of[$name]}: no request completed"
    local by_db='{}'
    if [ "$statements_available" = 1 ]; then
        # Statements each database executed per request (these monitoring queries run in
        # `postgres`, which is not counted).
        # Statements each database executed per request and their mean execution time (these
        # monitoring queries run in `postgres`, which is not counted).
        by_db=$(admin -F ' ' -c "SELECT d.datname, sum(s.calls), sum(s.total_exec_time) FROM pg_stat_statements s
                    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname LIKE 'scatter\_%' GROUP BY 1" |
            jq -Rn --argjson r "$requests" '[inputs | split(" ") | map(tonumber? // .)
                | {(.[0]): {n: (.[1] / $r), ms: (if .[1] > 0 then .[2] / .[1] else 0 end)}}] | add // {}')
    fi
    local sum1 count1 t_sum1 t_count1 statements sql_ms
    sum1=$(metric "$name" fraiseql_sql_statements_per_request_sum)
    count1=$(metric "$name" fraiseql_sql_statements_per_request_count)
    t_sum1=$(metric "$name" fraiseql_sql_duration_seconds_sum)
    t_count1=$(metric "$name" fraiseql_sql_duration_seconds_count)
    statements=$(awk -v a="$sum0" -v b="$sum1" -v c="$count0" -v d="$count1" \
        'BEGIN { n = d - c; printf "%.3f", (n > 0 ? (b - a) / n : 0) }')
    sql_ms=$(awk -v a="$t_sum0" -v b="$t_sum1" -v c="$t_count0" -v d="$t_count1" \
        'BEGIN { n = d - c; printf "%.4f", (n > 0 ? (b - a) * 1000 / n : 0) }')
    jq -cn --argjson round "$round" --arg query "$query" --arg setup "$name" \
        --argjson requests "$requests" --argjson rps "$rps" --argjson p50 "$p50" --argjson p99 "$p99" \
        --argjson errors "$errors" --argjson statements "$statements" --argjson by_db "$by_db" \
        --argjson sql_ms "$sql_ms" \
        --argjson cpu_us "$(((cpu1 - cpu0) * 1000000 / ticks_per_second / requests))" \
        --argjson db_us "$(((db1 - db0) * 1000000 / ticks_per_second / requests))" \
        '{round: $round, query: $query, setup: $setup, requests: $requests, rps: $rps, p50: $p50,
          p99: $p99, errors: $errors, statements: $statements, by_db: $by_db, sql_ms: $sql_ms,
          cpu_us: $cpu_us, db_us: $db_us}' >>"$results"
    printf '  round %s %-3s %-24s %9.1f req/s  p50 %7.3f ms  p99 %8.3f ms  errors %s  SQL/req %s\n' \
        "$round" "$query" "${label_of[$name]}" "$rps" "$p50" "$p99" "$errors" "$statements"
}

queries="S1 S2 S3"
echo "== measuring: $rounds round(s) x 6 runs x (${warmup}s warm-up + ${duration}s), wrk -t$threads -c$connections"
started=$(date +%s)
for round in $(seq 1 "$rounds"); do
    for query in $queries; do
        order="single sharded"
        if [ $((round % 2)) = 0 ]; then
            order="sharded single"
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
    echo "### Scatter-gather: $shards shards vs one database (bench/scatter.sh)"
    echo
    echo "Machine: $(nproc) cores ($cpu_model), $mem_total, Linux $(uname -r); PostgreSQL $pg_version;"
    echo "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2); $(rustc --version | cut -d' ' -f1-2)."
    echo "Run: \`BENCH_DURATION=$duration BENCH_ROUNDS=$rounds bash bench/scatter.sh\` at $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo ' + local changes'),"
    echo "$rounds round(s) x ${duration}s per (query, setup) after ${warmup}s warm-up, wrk -t$threads -c$connections; both servers FRAISEQL_CACHE=off, pool $pool"
    echo "(per database: the sharded server has one pool for the primary and one per shard). $users users ($per_shard),"
    echo "$((users * posts_per_user)) posts, the same rows in both setups. All five databases are in ONE PostgreSQL cluster"
    echo "on this machine: the shards share its $(nproc) cores with each other, the servers and wrk. Measuring took ${elapsed}s;"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    jq -rs --argjson labels "$labels_json" '
      def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def f(d): if . == null then "n/a" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
      def ms: if . == null then "n/a" else (if . < 10 then f(2) else f(1) end) end;
      def short: sub("^scatter_"; "") | sub("^single$"; "db") | sub("^primary$"; "p") | sub("^shard"; "s");
      . as $all
      | "| query | setup | RPS | p50 ms | p99 ms | errors | SQL/req [per database] | SQL ms | PG exec ms [per database] | server CPU µs/req | db CPU µs/req |",
        "|---|---|---:|---:|---:|---:|---|---:|---|---:|---:|",
        (["S1", "S2", "S3"][] as $q
         | ["single", "sharded"][] as $s
         | [$all[] | select(.query == $q and .setup == $s)]
         | select(length > 0)
         | . as $g
         | ([$g[].by_db | keys[]] | unique) as $dbs
         | ($dbs | map(. as $d | "\(short) \($g | map(.by_db[$d].n // 0) | median | f(2))") | join(", ")) as $per_db
         | ($dbs | map(. as $d | "\(short) \($g | map(.by_db[$d].ms // 0) | median | f(3))") | join(", ")) as $db_ms
         | "| \($q) | \($labels[$s]) | \($g | map(.rps) | median | f(0))"
           + " | \($g | map(.p50) | median | ms) | \($g | map(.p99) | median | ms)"
           + " | \($g | map(.errors) | add) | \($g | map(.statements) | median | f(2))"
           + "\(if $per_db == "" then "" else " [\($per_db)]" end)"
           + " | \($g | map(.sql_ms) | median | f(3)) | \($db_ms)"
           + " | \($g | map(.cpu_us) | median | f(0))"
           + " | \($g | map(.db_us) | median | f(0)) |")
    ' "$results"
    echo
    echo "Ratios sharded / single (per round, measured seconds apart; the median decides):"
    echo
    jq -rs '
      def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
      def f2: (. * 100 | round / 100 | tostring);
      . as $all
      | def ratios($q; $field):
          [$all[] | select(.query == $q and .setup == "sharded")]
          | map(.round as $r | .[$field] / ([$all[] | select(.query == $q and .setup == "single" and .round == $r)][0][$field] // null))
          | map(select(. != null));
        "| query | p50 ratio | per round | p99 ratio | per round | RPS ratio |",
        "|---|---:|---|---:|---|---:|",
        (["S1", "S2", "S3"][] as $q
         | ratios($q; "p50") as $p50 | ratios($q; "p99") as $p99 | ratios($q; "rps") as $rps
         | select($p50 | length > 0)
         | "| \($q) | \($p50 | median | f2) | \($p50 | map(f2) | join(", ")) | \($p99 | median | f2)"
           + " | \($p99 | map(f2) | join(", ")) | \($rps | median | f2) |"),
        "",
        (ratios("S1"; "p50") | median) as $m
        | "Target (issue 8): S1 p50 ratio < 1.5: \(if $m == null then "not measured" else "\($m | f2), \(if $m < 1.5 then "met" else "**not met**" end)" end)."
    ' "$results"
} | tee "$report.tmp"
mv "$report.tmp" "$report"
cp "$results" "${report%.md}.jsonl"
echo
echo "(report written to $report; raw measurements in ${report%.md}.jsonl)"
