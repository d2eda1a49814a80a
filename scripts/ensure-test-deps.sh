#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, or says clearly why it cannot.
# Needs: a Rust toolchain (cargo), and for the formatting/lint steps rustfmt and clippy.
set -euo pipefail

fail() { echo "ensure-test-deps: $*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || fail "cargo is not installed: install Rust with rustup (https://rustup.rs), then re-run make test"
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 || fail "cargo $component is missing and rustup is not available to add it"
    rustup component add "$component" || fail "could not install the $component component (rustup component add $component)"
  fi
done
echo "ensure-test-deps: cargo, rustfmt and clippy present"
