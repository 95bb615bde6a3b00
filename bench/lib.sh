# shellcheck shell=bash
# Shared by bench/run.sh and bench/scatter.sh (sourced, not run): the wrk scripts, the stopping
# of servers, CPU accounting.

# bench_wrk_scripts <dir>: writes <dir>/fixed.lua (POSTs $BENCH_BODY) and <dir>/random-id.lua
# (POSTs $BENCH_TEMPLATE with a random id in 1..$BENCH_MAX_ID per request). Responses that are
# not 200 or carry GraphQL errors are counted; done() prints one machine-readable line for all
# threads: `RESULT <requests> <rps> <p50 ms> <p99 ms> <errors>`.
bench_wrk_scripts() {
    local dir=$1 common
    # shellcheck disable=SC2016 # Lua, not shell
    common='
local threads = {}
function setup(thread) table.insert(threads, thread) end
bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, "\"errors\"", 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %.3f %.3f %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout + bad_total))
end'
    cat >"$dir/fixed.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
$common
EOF
    cat >"$dir/random-id.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
local template = os.getenv("BENCH_TEMPLATE")
local max_id = tonumber(os.getenv("BENCH_MAX_ID"))
function request()
  return wrk.format(nil, nil, nil, string.format(template, math.random(1, max_id)))
end
$common
EOF
}

# bench_stop_servers <pid>...: stops the servers and waits for them.
bench_stop_servers() {
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null || true
    done
}

# bench_cpu_ticks <pid>...: CPU clock ticks (utime + stime) of a set of processes so far.
bench_cpu_ticks() {
    local total=0 pid stat fields
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a fields <<<"${stat##*) }"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}
