#!/usr/bin/env bash
# A bounded fuzz run of every target in fuzz/ (cargo-fuzz, libFuzzer): the request-document
# pipeline (parse, validate, coerce variables, plan, explain) and the schema compiler. Any
# panic fails the run and leaves the input under fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh [seconds per target, default 30]
#
# cargo-fuzz is installed from crates.io when missing. It needs nightly-only compiler flags;
# RUSTC_BOOTSTRAP=1 allows them on the stable toolchain this machine has. `-s none`: no
# sanitizer (the code under test is safe Rust; panics are what we hunt), which also keeps the
# build short. `--dev`: an unoptimised build, which compiles in about half the time of the
# default release build; for seconds of fuzzing that trade is right (debug assertions and
# overflow checks are on either way). New inputs libFuzzer finds go to a scratch corpus, not
# the repository.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-30}
case "$seconds" in '' | *[!0-9]*) echo "seconds must be a number, got '$seconds'" >&2; exit 2 ;; esac

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
(cd fuzz && cargo fuzz build --dev -s none)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fraiseql-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
status=0
# Seeds: the repository's own documents and schemas (every compiler fixture included), plus the
# few seeds kept only for fuzzing under fuzz/corpus/.
mkdir -p "$scratch/seeds/document" "$scratch/seeds/schema"
cp tests/fixtures/*.graphql fuzz/corpus/document/*.graphql "$scratch/seeds/document/"
cp schema/*.graphql "$scratch/seeds/schema/"
for f in examples/*/schema/*.graphql fraiseql-compiler/tests/fixtures/*/schema.graphql; do
    cp "$f" "$scratch/seeds/schema/$(echo "$f" | tr '/' '_')"
done
for target in document schema; do
    mkdir -p "$scratch/$target"
    echo "fuzzing $target for ${seconds}s"
    if ! (cd fuzz && cargo fuzz run "$target" --dev -s none "$scratch/$target" "$scratch/seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 2>&1 | tail -n 12); then
        echo "fuzz target $target FAILED (input saved under fuzz/artifacts/$target/)" >&2
        status=1
    fi
done
exit $status
