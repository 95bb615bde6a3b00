#!/usr/bin/env bash
# Finds the request rate at which FraiseQL stops meeting the product's targets (p99 <= 500 ms,
# errors <= 0.1 %): a benchmark that prints tables, not a test. From the repository root:
#
#   bash loadtest/run.sh                       # 1 instance on a seeded SQLite file
#   bash loadtest/run.sh --instances 3         # 3 instances behind HAProxy (scripts/haproxy.sh)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/blog bash loadtest/run.sh
#
# It builds the release binary, seeds the database (SQLite in a temporary directory unless a
# PostgreSQL DATABASE_URL is given: that database is migrated and seeded when empty, never
# dropped), starts the instances on loopback, checks one request answers with data, then drives
# the query at a fixed rate per step, each rate higher than the last, with oha (an open-model
# load generator: latency counts from when a request was due, so a server that falls behind
# shows it). One table row per step; the breaking point is the first step where p99 > 500 ms or
# more than 0.1 % of requests fail. Everything it started is stopped at exit.
#
# Options:
#   --instances N      server instances (default 1; more than 1 puts HAProxy in front)
#   --rates LIST       requests/s per step, comma-separated (default 1000,2000,4000,...,32000)
#   --step DURATION    length of each step, oha syntax (default 10s)
#   --warmup DURATION  a first run at the lowest rate, not reported (default 3s)
#   --connections N    client connections (default 64)
#   --query NAME|DOC   users50 (default: the product's { users(limit: 50) { id name } }), nested,
#                      or a GraphQL document
#   --port N           first port: HAProxy on N, instances on N+1.. (default 18300)
#   --database-url URL instead of the environment's DATABASE_URL
#   --keep-going       run every step (default: stop after two broken steps in a row)
#
# The load generator, the instances and HAProxy share this machine's cores: several instances on
# one machine measure the balancer's path, not more capacity. oha is installed with
# `cargo install oha --locked` when missing; when that fails, wrk (apt) is used, with a paced
# closed loop that only approximates the rates.
set -euo pipefail

cd "$(dirname "$0")/.."
repo_root=$(pwd)
command_line="bash loadtest/run.sh${*:+ $*}"

instances=1
rates=1000,2000,4000,8000,12000,16000,20000,24000,28000,32000
step=10s
warmup=3s
connections=64
query_arg=users50
port=18300
database_url=${DATABASE_URL:-}
keep_going=0

die() {
    echo "loadtest: $*" >&2
    exit 1
}
while [ $# -gt 0 ]; do
    case "$1" in
        --instances) instances=${2:?}; shift 2 ;;
        --rates) rates=${2:?}; shift 2 ;;
        --step) step=${2:?}; shift 2 ;;
        --warmup) warmup=${2:?}; shift 2 ;;
        --connections) connections=${2:?}; shift 2 ;;
        --query) query_arg=${2:?}; shift 2 ;;
        --port) port=${2:?}; shift 2 ;;
        --database-url) database_url=${2:?}; shift 2 ;;
        --keep-going) keep_going=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
case "$instances" in '' | *[!0-9]* | 0) die "--instances must be a positive number" ;; esac
IFS=, read -r -a rate_list <<<"$rates"
for r in "${rate_list[@]}"; do
    case "$r" in '' | *[!0-9]* | 0) die "--rates must be positive numbers, got '$r'" ;; esac
done

case "$query_arg" in
    users50) query='{ users(limit: 50) { id name } }' ;;
    nested) query='{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }' ;;
    *) query=$query_arg ;;
esac
body=$(jq -cn --arg q "$query" '{query: $q}')

command -v curl >/dev/null 2>&1 || die "curl not found: apt-get install -y curl"
command -v jq >/dev/null 2>&1 || die "jq not found: apt-get install -y jq"

work=$(mktemp -d)
server_pids=()
haproxy_started=0
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$haproxy_started" -eq 1 ]; then
        bash "$repo_root/scripts/haproxy.sh" stop "$port" >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
echo "== build (release)"
cargo build --release --bin fraiseql-blog
bin=${CARGO_TARGET_DIR:-$repo_root/target}/release/fraiseql-blog
[ -x "$bin" ] || die "no binary at $bin"

echo "== load generator"
generator=""
find_oha() {
    command -v oha 2>/dev/null || { [ -x "$HOME/.cargo/bin/oha" ] && echo "$HOME/.cargo/bin/oha"; }
}
if oha_bin=$(find_oha); then
    generator=oha
else
    echo "oha missing: cargo install oha --locked"
    if CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo_root/target}/oha-build \
        cargo install oha --locked && oha_bin=$(find_oha); then
        generator=oha
    else
        echo "oha could not be installed; falling back to wrk"
        if ! command -v wrk >/dev/null 2>&1; then
            apt-get update -qq || die "apt-get update failed"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk \
                || die "cannot install wrk"
        fi
        generator=wrk
    fi
fi
if [ "$generator" = oha ]; then
    "$oha_bin" --version
else
    wrk --version 2>&1 | head -n 1 || true
fi

# ---------------------------------------------------------------------------------------------
case "$database_url" in
    postgres://* | postgresql://*)
        echo "== database: $(sed -E 's#://[^@/]*@#://***@#' <<<"$database_url"): migrate, seed when empty"
        ;;
    '')
        database_url="sqlite://$work/loadtest.db"
        echo "== database: new SQLite file, migrate, seed"
        ;;
    sqlite://*) echo "== database: $database_url: migrate, seed when empty" ;;
    *) die "DATABASE_URL must be sqlite://… or postgres://…" ;;
esac
# Migrated and seeded once, before any instance starts: several instances creating the same new
# SQLite file at once would race.
for command in migrate seed; do
    DATABASE_URL=$database_url RUST_LOG=warn "$bin" "$command" >"$work/$command.log" 2>&1 \
        || { cat "$work/$command.log" >&2; die "$command failed"; }
done

echo "== $instances instance(s)"
instance_ports=()
for i in $(seq 1 "$instances"); do
    p=$((port + i))
    DATABASE_URL=$database_url FRAISEQL_BIND=127.0.0.1:$p RUST_LOG=${RUST_LOG:-warn} \
        "$bin" serve >"$work/server-$i.log" 2>&1 &
    server_pids+=("$!")
    instance_ports+=("$p")
done
for i in $(seq 1 "$instances"); do
    p=${instance_ports[$((i - 1))]}
    for _ in $(seq 1 120); do
        curl -fs -o /dev/null "http://127.0.0.1:$p/health/ready" 2>/dev/null && break
        kill -0 "${server_pids[$((i - 1))]}" 2>/dev/null \
            || { cat "$work/server-$i.log" >&2; die "instance $i exited"; }
        sleep 0.5
    done
    curl -fs -o /dev/null "http://127.0.0.1:$p/health/ready" || die "instance $i never got ready"
done
if [ "$instances" -gt 1 ]; then
    bash "$repo_root/scripts/haproxy.sh" start "$port" "${instance_ports[@]}"
    haproxy_started=1
    url="http://127.0.0.1:$port/graphql"
else
    url="http://127.0.0.1:${instance_ports[0]}/graphql"
fi

# One request by hand: a load test of error responses would measure nothing.
answer=$(curl -fsS -H 'content-type: application/json' -d "$body" "$url") || die "request failed"
jq -e '.data != null and (.errors | not)' >/dev/null <<<"$answer" \
    || die "unexpected answer: ${answer:0:300}"

# ---------------------------------------------------------------------------------------------
# One step: "achieved_rps p50_ms p99_ms requests failed" on stdout.
run_oha() {
    local rate=$1 duration=$2 out
    out=$("$oha_bin" -z "$duration" -q "$rate" -c "$connections" --latency-correction \
        --no-tui --output-format json -m POST -H 'content-type: application/json' \
        -d "$body" "$url") || return 1
    # Requests still in flight when the step ends are cut off by oha ("aborted due to
    # deadline"): neither a success nor the server's failure, so they are not counted.
    jq -r '
        (.statusCodeDistribution // {}) as $codes
        | ((.errorDistribution // {}) | with_entries(select(.key | test("deadline") | not))) as $errs
        | ([$codes[]] | add // 0) as $answered
        | ([$errs[]] | add // 0) as $socket
        | (($codes["200"] // 0)) as $ok
        | [ (.summary.requestsPerSec // 0),
            ((.latencyPercentiles.p50 // 0) * 1000),
            ((.latencyPercentiles.p99 // 0) * 1000),
            ($answered + $socket),
            ($answered - $ok + $socket) ]
        | map(tostring) | join(" ")' <<<"$out"
}

# wrk cannot hold a rate: each connection waits connections/rate seconds between requests, so
# the achieved rate falls short once latency is a noticeable part of that interval, and latency
# does not include time a request spent waiting to be sent.
cat >"$work/paced.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("LOADTEST_BODY")
local pause = tonumber(os.getenv("LOADTEST_PAUSE_MS"))
local threads = {}
function setup(thread) table.insert(threads, thread) end
function delay() return pause end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests + e.connect,
    e.status + e.connect + e.read + e.write + e.timeout))
end
EOF
run_wrk() {
    local rate=$1 duration=$2 out
    out=$(LOADTEST_BODY=$body LOADTEST_PAUSE_MS=$((1000 * connections / rate)) \
        wrk -t 2 -c "$connections" -d "$duration" -s "$work/paced.lua" "$url") || return 1
    grep '^RESULT ' <<<"$out" | cut -d' ' -f2-
}
measure() {
    "run_$generator" "$@"
}

# CPU time (clock ticks) the instances (and HAProxy) have used so far: utime + stime.
cpu_ticks() {
    local total=0 pid stat fields
    for pid in "${server_pids[@]}" $(cat "${TMPDIR:-/tmp}/fraiseql-haproxy-$port/haproxy.pid" 2>/dev/null); do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
        read -r -a fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}
ticks_per_second=$(getconf CLK_TCK)
# CPU time (ticks) of the whole machine, busy (not idle or waiting for I/O).
machine_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
# CPU time (ticks) of this shell's finished children, the load generator of each step, into
# $generator_ticks. (`times` must run in this shell, not in a $(…) subshell, whose children
# are others.)
read_generator_ticks() {
    times >"$work/times"
    generator_ticks=$(awk -v hz="$ticks_per_second" 'NR == 2 {
        total = 0
        for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); total += t[1] * 60 + t[2] }
        printf "%d", total * hz }' "$work/times")
}

# Other work on the machine takes cores from the server and the load generator: say how much.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== warm-up: $warmup at ${rate_list[0]} requests/s"
measure "${rate_list[0]}" "$warmup" >/dev/null

rows=()
breaking=""
broken_in_a_row=0
for rate in "${rate_list[@]}"; do
    echo "== $rate requests/s for $step"
    read_generator_ticks
    server_before=$(cpu_ticks) generator_before=$generator_ticks machine_before=$(machine_ticks)
    started=$(date +%s.%N)
    result=$(measure "$rate" "$step") || die "the load generator failed at $rate requests/s"
    read_generator_ticks
    # Cores kept busy during the step by the servers (HAProxy included when it is in front), by
    # the load generator, and by everything else on the machine (other people's work).
    read -r server_cores generator_cores other_cores < <(awk -v hz="$ticks_per_second" \
        -v server="$(($(cpu_ticks) - server_before))" \
        -v generator="$((generator_ticks - generator_before))" \
        -v machine="$(($(machine_ticks) - machine_before))" \
        -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {
            d = hz * (e - s); other = machine - server - generator
            printf "%.2f %.2f %.2f\n", server / d, generator / d, (other > 0 ? other : 0) / d }')
    read -r achieved p50 p99 total failed <<<"$result"
    verdict=$(awk -v p99="$p99" -v total="$total" -v failed="$failed" 'BEGIN {
        rate = total > 0 ? failed / total : 1
        if (p99 > 500 && rate > 0.001) print "p99 and errors over"
        else if (p99 > 500) print "p99 over 500 ms"
        else if (rate > 0.001) print "errors over 0.1 %"
        else print "ok" }')
    error_pct=$(awk -v total="$total" -v failed="$failed" \
        'BEGIN { printf "%.3f", (total > 0 ? 100 * failed / total : 100) }')
    rows+=("$(printf '| %8s | %10.0f | %8.1f | %8.1f | %12s | %7s %% | %21s | %s |' \
        "$rate" "$achieved" "$p50" "$p99" "$failed/$total" "$error_pct" \
        "$server_cores / $generator_cores / $other_cores" "$verdict")")
    if [ "$verdict" = ok ]; then
        broken_in_a_row=0
    else
        [ -n "$breaking" ] || breaking="$rate requests/s ($verdict: p99 $(printf '%.1f' "$p99") ms, errors $error_pct %)"
        broken_in_a_row=$((broken_in_a_row + 1))
        if [ "$keep_going" -eq 0 ] && [ "$broken_in_a_row" -ge 2 ]; then
            echo "(two broken steps in a row: stopping; --keep-going runs every step)"
            break
        fi
    fi
done

peak_rss=""
for pid in "${server_pids[@]}"; do
    peak_rss+="$(awk '/^VmHWM/ { printf "%d MiB ", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)"
done

echo
echo "### $instances instance(s), ${query_arg}"
echo
echo "\`$command_line\`"
echo
if [ "$instances" -gt 1 ]; then
    echo "- target: HAProxy on 127.0.0.1:$port -> ${instance_ports[*]}"
else
    echo "- target: one instance on 127.0.0.1:${instance_ports[0]}"
fi
echo "- database: $(sed -E 's#://[^@/]*@#://***@#; s#sqlite://.*#SQLite (seeded demo data)#' <<<"$database_url")"
echo "- load: $generator, $connections connections, $step per step$([ "$generator" = oha ] && echo ', latency corrected (open model)')"
echo "- query: \`$query\`"
echo "- machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- peak RSS per instance: ${peak_rss:-unknown}"
echo "- cores busy: CPU time per second of the step, of the instances (and HAProxy) / the load generator / all other processes on the machine (PostgreSQL too, when it runs here)"
echo
echo "| target/s | achieved/s | p50 (ms) | p99 (ms) | failed/total | errors    | cores: server/load/other | verdict |"
echo "|---------:|-----------:|---------:|---------:|-------------:|----------:|----------------------:|---------|"
printf '%s\n' "${rows[@]}"
echo
if [ -n "$breaking" ]; then
    echo "Breaking point: $breaking."
else
    echo "Breaking point: none up to ${rate_list[-1]} requests/s."
fi
