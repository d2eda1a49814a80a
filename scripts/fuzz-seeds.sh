#!/usr/bin/env bash
# Seeds every fuzz target's corpus (fuzz/corpus/<target>/, git-ignored) from the real fixtures:
# k6 outputs under fixtures/k6, the Prometheus exposition fixture, the policies in gates/ and
# fixtures/policies, the regression inputs in fixtures/fuzz-regressions, plus small hand-written
# inputs for what has no fixture file (Prometheus API answers, settings, duration strings) and
# native summaries with HDR histograms encoded the way the runner encodes them (V2 and
# V2+deflate, base64). Existing corpus files are kept, so a corpus grown by earlier runs is not
# lost. Usage: scripts/fuzz-seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - <<'PY'
import base64, gzip, hashlib, json, pathlib, re, struct, zlib

root = pathlib.Path(".")
corpus = root / "fuzz" / "corpus"
count = {}

def seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)
    count[target] = count.get(target, 0) + 1

k6 = sorted((root / "fixtures" / "k6").glob("*/*"))

# --- k6 summaries, one target per shape --------------------------------------------------
for case in k6:
    for f in case.glob("summary-export.json"):
        seed("k6_summary_export", f.read_bytes())
    for f in case.glob("handle-summary*.json"):
        seed("k6_handle_summary", f.read_bytes())
    for f in case.glob("summary-v1.json"):
        seed("k6_machine_readable", f.read_bytes())

# --- k6 raw results: distinct lines, and heads of whole files ----------------------------
def head_lines(path, n):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return [line for _, line in zip(range(n), fh)]

seen_shapes = set()
for case in k6[:4]:
    for raw in sorted(case.glob("raw*.ndjson*")):
        lines = head_lines(raw, 400)
        for line in lines:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            shape = (doc.get("type"), doc.get("metric"), tuple(sorted((doc.get("data") or {}).get("tags") or {})))
            if shape in seen_shapes:
                continue
            seen_shapes.add(shape)
            body = line.rstrip(b"\n")
            seed("k6_ndjson_line", b"\x00" + body)
            seed("k6_ndjson_line", b"\x01" + body)
        head = b"".join(lines[:80])
        seed("k6_ndjson_file", head)
        seed("k6_ndjson_file", gzip.compress(head, mtime=0))
        seed("k6_ndjson_file", head.rstrip(b"\n"))  # a last line without newline

# --- policies and the threshold expressions they hold ------------------------------------
policies = sorted((root / "gates").glob("*.toml")) + sorted((root / "fixtures" / "policies").glob("*.toml"))
expressions = set()
for p in policies:
    text = p.read_text()
    seed("policy_toml", text)
    for m in re.finditer(r"thresholds\s*=\s*\[([^\]]*)\]", text):
        expressions.update(re.findall(r'"([^"]*)"', m.group(1)))
    for m in re.finditer(r'noise_floor\s*=\s*"([^"]*)"', text):
        expressions.add(m.group(1))
for case in k6:
    for f in case.glob("summary-export.json"):
        for metric in json.loads(f.read_text()).get("metrics", {}).values():
            expressions.update((metric.get("thresholds") or {}).keys())
expressions.update([
    "p(95) <= baseline * 1.2", "p(99) < baseline + 20ms", "p(95) < baseline * 1.1 + 5%",
    "value === 2", "value != -2e-3", "rate < 1%", "max < 3m", "p(99.9) <= 1.5s", "avg < 400us",
    "p95 < 60s", "med > 0.5h", "count >= 10", "1e3ms", "25%", "0.7", "p(50)", "min",
])
for e in sorted(expressions):
    seed("threshold_expr", e)

# --- duration and unit strings -----------------------------------------------------------
for d in ["30s", "250ms", "2m", "1h 30m", "10m", "500ms", "0s", "3600s", "1day", "2weeks 1ns", "1y 2M",
          "1767225600", "1767225600.9", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00",
          "12", "12.5", "0.01", "1e3", "45"]:
    seed("duration_units", d)

# --- Prometheus API answers: first byte picks the HTTP status (0-3: 200, 4: 400, 5: 422, 6: 500, 7: 503)
def vec(*values):
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"queue": f"q{i}"}, "value": [1767225600, v]} for i, v in enumerate(values)]}}
answers = [
    (0, vec("45")), (0, vec("12", "NaN", "3.5")), (0, vec("+Inf")), (0, vec()),
    (0, {"status": "success", "data": {"resultType": "scalar", "result": [1767225600, "0.25"]}}),
    (0, {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1767225600, "1"]]}]}}),
    (0, {"status": "success", "data": {"resultType": "string", "result": [1767225600, "x"]}}),
    (4, {"status": "error", "errorType": "bad_data", "error": "parse error: unexpected fuzz-secret-token"}),
    (5, {"status": "error", "errorType": "execution", "error": "many-to-many matching not allowed"}),
    (7, {"status": "error", "errorType": "unavailable", "error": "overloaded"}),
    (6, {"status": "error", "errorType": "internal", "error": "boom"}),
    (0, {"status": "success", "data": {"resultType": "vector", "result": []}, "warnings": ["w"]}),
]
for status, body in answers:
    seed("prometheus_response", bytes([status]) + json.dumps(body).encode())
seed("prometheus_response", b"\x00<html>not the API</html>")

# --- /metrics exposition: the fixture in chunks, and a before/after pair -----------------
om = (root / "fixtures" / "prometheus" / "fixture.om").read_text().splitlines(keepends=True)
for start in range(0, min(len(om), 400), 40):
    seed("scrape_exposition", "".join(om[start:start + 40]))
before = 'lag_bucket{le="1"} 10\nlag_bucket{le="5"} 20\nlag_bucket{le="10"} 20\nlag_bucket{le="+Inf"} 20\nlag_sum 40\nlag_count 20\n'
after = 'lag_bucket{le="1"} 10\nlag_bucket{le="5"} 110\nlag_bucket{le="10"} 120\nlag_bucket{le="+Inf"} 120\nlag_sum 440\nlag_count 120\nother_total 5\n'
seed("scrape_exposition", before + "=====\n" + after)
seed("scrape_exposition", '# TYPE r histogram\nr_bucket{path="/rules/{id}/run",q="a,b",le="0.5"} 3\nr_bucket{path="/x",le="+Inf"} 4\n')

# --- native summaries with HDR histograms (hdrhistogram's V2 layout, 1..3.6e9 us, 3 digits)
SUB_HALF_MAG = 10  # sub-bucket half count 1024 for 3 significant digits, unit magnitude 0

def index_for(v):
    bucket = (v | 2047).bit_length() - (SUB_HALF_MAG + 1)
    return ((bucket + 1) << SUB_HALF_MAG) + ((v >> bucket) - 1024)

def zigzag_varint(n):
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    for _ in range(8):
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z & 0xFF)
    return bytes(out)

def v2(values):
    counts = {}
    for v in values:
        counts[index_for(v)] = counts.get(index_for(v), 0) + 1
    payload, at = bytearray(), 0
    for i in sorted(counts):
        if i > at:
            payload += zigzag_varint(-(i - at)) if i - at > 1 else zigzag_varint(0)
        payload += zigzag_varint(counts[i])
        at = i + 1
    header = struct.pack(">IIIIQQd", 0x1C849313, len(payload), 0, 3, 1, 3_600_000_000, 1.0)
    return header + bytes(payload)

def v2_deflate(values):
    inner = zlib.compress(v2(values))
    return struct.pack(">II", 0x1C849314, len(inner)) + inner

samples = [[12_000, 15_500, 15_600, 40_000, 41_000, 250_000], [900], [1, 2047, 2048, 3_599_999_999], list(range(1000, 200_000, 7919))]
for values in samples:
    seed("merge_native_hdr", b"\x01" + v2(values))
    seed("merge_native_hdr", b"\x01" + v2_deflate(values))

def native(histograms, failed=1):
    return json.dumps({"metrics": {}, "gatecheck": {
        "scenario": "core-flows", "target": "http://127.0.0.1:8000",
        "executor": {"type": "constant-arrival-rate", "iterations_per_second_per_flow": 5.0, "max_vus_per_flow": 4},
        "started_at": "2026-11-30T00:00:00Z", "duration_s": 3.0, "partial": False, "partial_reason": None,
        "skipped_flows": [{"flow": "rule_run", "because": "PERF_ENABLE_RULE_RUN=0"}], "request_cap": 0,
        "recorder": {"flows": [{"name": f"flow{i}", "iterations": 10, "late_iterations": 1, "dropped_iterations": 0,
            "endpoints": [{"name": "list", "method": "GET", "check": "list 200", "requests": 10, "failed": failed,
                "checks_passed": 9, "checks_failed": 1, "statuses": {"200": 9, "500": 1},
                "histogram_us": base64.b64encode(h).decode()}]} for i, h in enumerate(histograms)],
            "errors": {"timeout": 1}, "bytes_received": 4096, "clamped": 0}}})
seed("merge_native_hdr", b"\x00" + native([v2_deflate(samples[0])]).encode())
seed("merge_native_hdr", b"\x00" + native([v2_deflate(samples[0]), v2(samples[3])], failed=0).encode())

# --- settings files (gatecheck.toml) -----------------------------------------------------
for s in [
    'summary = "artifacts/perf/k6-summary.json"\npolicy = "gates/release.toml"\n',
    'prometheus_url = "http://127.0.0.1:9090/"\nprometheus_timeout = "10s"\nprometheus_retries = 2\nprometheus_concurrency = 8\n',
    'prometheus_url = "https://prom.example:9090/prefix"\nprometheus_header = ["X-Scope-OrgID: tenant"]\nprometheus_user = "gate"\n',
    'color = "never"\nskip_flow = ["rule_run"]\nno_env = true\nvar = ["window=30m"]\nat = "2026-01-01T00:00:00Z"\n',
    'raw = ["a.ndjson", "b.ndjson.gz"]\nraw_lenient = true\nbaseline = "base.json"\nhistory = "hist"\n',
    'summray = "x.json"\n',
]:
    seed("settings_toml", s)

# --- every regression input (fixtures/fuzz-regressions/<target>[-what]/), so each run starts
# from the faults found before; merge inputs are whole summaries (mode byte 0).
summary_targets = ["k6_summary_export", "k6_handle_summary", "k6_machine_readable"]
for folder in sorted((root / "fixtures" / "fuzz-regressions").iterdir()):
    name = folder.name.split("-")[0]
    for f in sorted(folder.iterdir()):
        data = f.read_bytes()
        for target in summary_targets if name == "k6_summary" else [name]:
            seed(target, b"\x00" + data if target == "merge_native_hdr" else data)

for target in sorted(count):
    print(f"{target}: {count[target]} seeds")
PY
