# Shared by scripts/pg-instance.sh and scripts/pg-replicas.sh (sourced, not run): where the
# PostgreSQL server binaries are, and how to run them (the server refuses to run as root, so as
# root every server command runs as the `postgres` OS user).

# Newest installed server version; sort -V so that 16 sorts after 9.6.
find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    else
        echo "no PostgreSQL server binaries found (install the postgresql package)" >&2
        exit 1
    fi
}

if [ "$(id -u)" -eq 0 ]; then
    run_pg() { runuser -u postgres -- "$@"; }
else
    run_pg() { "$@"; }
fi
