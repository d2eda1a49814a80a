#!/usr/bin/env bash
# Raw NDJSON ingest: gatecheck verify --raw beside jq streaming over the same file, in one run.
# The file is real k6 output (fixtures/k6/1.1.0/fail-latency/raw.ndjson, every point within
# 07:35) repeated to BENCH_RAW_MB megabytes (default 1024) in a temporary directory, deleted
# afterwards. It must stay one run: a run's points written twice are refused, and so is a
# metric declared twice in one file. So the Metric records are written once, and copy i is the
# same points i minutes later (one long run, each sample once).
# Prints MB/s for both, the ratio (goal >= 7x jq streaming, i.e. >= 300 MB/s) and gatecheck's
# peak RSS (goal < 50 MB for 1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { echo "bench: jq is required (apt-get install jq)" >&2; exit 1; }
cargo build --release --quiet
size_mb=${BENCH_RAW_MB:-1024}
work=$(mktemp -d "${TMPDIR:-/tmp}/gatecheck-raw.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=fixtures/k6/1.1.0/fail-latency/raw.ndjson
big="$work/raw.ndjson"
src_bytes=$(stat -c %s "$src")
copies=$(( size_mb * 1024 * 1024 / src_bytes + 1 ))
{
  cat "$src"
  for i in $(seq 1 $(( copies - 1 ))); do
    minutes=$(( 7 * 60 + 35 + i ))
    prefix=$(date -u -d "2026-11-27 00:00 UTC + $minutes minutes" '+%Y-%m-%dT%H:%M:')
    grep -v '"type":"Metric"' "$src" | sed "s/\"time\":\"2026-11-27T07:35:/\"time\":\"$prefix/"
  done
} > "$big"
bytes=$(stat -c %s "$big")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "# raw ingest — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs; $mb MiB of real k6 1.1.0 NDJSON ($copies copies of $src)"
cat "$big" > /dev/null  # warm the page cache for both tools

/usr/bin/time -f '%e %M' -o "$work/jq.time" \
  jq -c 'select(.type == "Point" and .metric == "http_req_duration" and .data.tags.flow == "auth_list") | .data.value' "$big" > "$work/jq.out"
read -r jq_s jq_kb < <(tail -n 1 "$work/jq.time")

/usr/bin/time -f '%e %M' -o "$work/g.time" \
  ./target/release/gatecheck verify --policy gates/release.toml --raw "$big" --no-env > "$work/g.out" || true
read -r g_s g_kb < <(tail -n 1 "$work/g.time")
grep -q "read-latency" "$work/g.out" || { echo "gatecheck did not judge the file:" >&2; cat "$work/g.out" >&2; exit 1; }

awk -v mb="$mb" -v js="$jq_s" -v jk="$jq_kb" -v gs="$g_s" -v gk="$g_kb" 'BEGIN {
  printf "jq streaming (select + extract one flow): %6.1f s  %7.1f MB/s  peak RSS %6.1f MiB\n", js, mb / js, jk / 1024
  printf "gatecheck verify --raw (9 gates):           %6.1f s  %7.1f MB/s  peak RSS %6.1f MiB\n", gs, mb / gs, gk / 1024
  printf "throughput gatecheck/jq = %.1fx (goal >= 7x, >= 300 MB/s); peak RSS %.1f MiB (goal < 50 MB)\n", js / gs, gk / 1024
}'
