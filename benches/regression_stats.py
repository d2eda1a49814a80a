#!/usr/bin/env python3
"""False alarms and misses of the plain "+20 % on p95" rule against the statistical rule
("+20 % and significant(0.01)", Mann-Whitney U over the HDR histograms).

Target: `gatecheck demo --serve` on loopback; load: gatecheck's native runner, one run at a
time (never two loads at once), each PAIR_SECONDS long. A/A pairs run the same build twice; A/B
pairs run B with --latency-factor 1.3 (+30 % on the rule_poll flow). Each B is judged against
its A as the baseline by both rules, and the counts are printed as a Markdown table.

Usage: python3 benches/regression_stats.py [PAIRS] [SECONDS]   (default 20 pairs of each, 3 s)
Environment: VUS (per flow, default 8), NO_SLEEP=0 to keep the scenario's sleeps.
Build first: cargo build --release (or set GATECHECK=path).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GATECHECK", os.path.join(ROOT, "target", "release", "gatecheck"))
PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
SECONDS = sys.argv[2] if len(sys.argv) > 2 else "3"
VUS = os.environ.get("VUS", "8")
# NO_SLEEP=0 keeps the scenario's sleeps: few samples per run, as in a short CI smoke.
NO_SLEEP = os.environ.get("NO_SLEEP", "1") == "1"

POLICY = """
[policy]
name = "regression-rules"

[k6_thresholds]
enforce = false

[[gate]]
id = "plain"
description = "rule_poll p95 at most +20 % over the baseline"
metric = "http_req_duration{flow:rule_poll}"
thresholds = ["p(95) <= baseline * 1.2"]

[[gate]]
id = "statistical"
description = "rule_poll p95 at most +20 % over the baseline, unless the shift is not significant"
metric = "http_req_duration{flow:rule_poll}"
thresholds = ["p(95) <= baseline * 1.2 and significant(0.01)"]

[[gate]]
id = "statistical-tight"
description = "rule_poll p95 at most +10 % over the baseline, unless the shift is not significant"
metric = "http_req_duration{flow:rule_poll}"
thresholds = ["p(95) <= baseline * 1.1 and significant(0.01)"]
"""


GATES = ("plain", "statistical", "statistical-tight")
RULES = {
    "plain": "p(95) <= baseline * 1.2",
    "statistical": "p(95) <= baseline * 1.2 and significant(0.01)",
    "statistical-tight": "p(95) <= baseline * 1.1 and significant(0.01)",
}


def serve(factor):
    """Starts the demo target; returns (process, url)."""
    proc = subprocess.Popen(
        # --as-candidate: the demo API stands in for a candidate here (its runs would otherwise
        # be marked as the demo's, which no baseline may be).
        [BIN, "demo", "--serve", "--as-candidate", "--latency-factor", str(factor)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        proc.kill()
        raise SystemExit(f"demo --serve said: {line!r}")
    return proc, match.group(0)


def run(factor, summary, workdir):
    proc, url = serve(factor)
    try:
        env = dict(os.environ, PERF_BEARER_TOKEN="demo-token", PERF_RULE_ID="rule-0001")
        subprocess.run(
            [BIN, "smoke", "--base-url", url, "--duration", f"{SECONDS}s", "--vus", VUS, "--quiet",
             "--summary-out", summary, "--log-out", os.path.join(workdir, "smoke.log")]
            + (["--no-sleep"] if NO_SLEEP else []),
            cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def judge(policy, a, b, workdir):
    """{gate id: verdict} for B against baseline A."""
    report = os.path.join(workdir, "verdict.json")
    done = subprocess.run(
        [BIN, "verify", "--policy", policy, "--summary", b, "--baseline", a, "--report", f"json={report}"],
        cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
    )
    if done.returncode == 2:
        raise SystemExit(f"verify refused the pair: {done.stderr.strip()}")
    with open(report) as f:
        rows = json.load(f)["gates"]
    return {row["id"]: row for row in rows if row["id"] in GATES}


def main():
    started = time.time()
    with tempfile.TemporaryDirectory() as workdir:
        policy = os.path.join(workdir, "policy.toml")
        with open(policy, "w") as f:
            f.write(POLICY)
        counts = {(kind, g): 0 for kind in ("A/A", "A/B") for g in GATES}
        no_data = 0
        for kind, factor in (("A/A", 1.0), ("A/B", 1.3)):
            for i in range(PAIRS):
                a, b = os.path.join(workdir, "a.json"), os.path.join(workdir, "b.json")
                run(1.0, a, workdir)
                run(factor, b, workdir)
                rows = judge(policy, a, b, workdir)
                line = []
                for gate in GATES:
                    verdict = rows[gate]["verdict"]
                    if verdict.startswith("NO DATA"):
                        no_data += 1
                    if verdict == "FAIL":
                        counts[(kind, gate)] += 1
                    line.append(f"{gate}={verdict}")
                observed = rows["plain"]["observed"].get("display", "")
                print(f"{kind} #{i + 1:2}: {' '.join(line)}  {observed}  {rows['statistical'].get('detail') or ''}",
                      flush=True)
    print()
    print(f"{PAIRS} A/A and {PAIRS} A/B pairs (+30 % on rule_poll), {SECONDS} s runs, {VUS} VUs per flow, "
          f"{'no sleeps' if NO_SLEEP else 'with the scenario sleeps'}; {time.time() - started:.0f} s; NO DATA rows: {no_data}")
    print()
    print("| rule | false alarms (A/A) | misses (A/B) |")
    print("| --- | --- | --- |")
    for gate in GATES:
        print(f"| `{RULES[gate]}` | {counts[('A/A', gate)]}/{PAIRS} | {PAIRS - counts[('A/B', gate)]}/{PAIRS} |")


if __name__ == "__main__":
    main()
