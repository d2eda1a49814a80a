#!/usr/bin/env python3
"""Load-runner benchmark: gatecheck smoke beside oha and k6, side by side in one run.

Target: `gatecheck bench-target` (a minimal hyper server, one tokio worker) pinned to CPU 0;
every load generator pinned to CPU 1. Each tool runs 3 interleaved repetitions of 10 s at 8
and 64 connections. Printed: requests/s, CPU time per request (user+sys of the generator, from
wait4), peak RSS, and the ratios the goals are stated in. Then: gatecheck's peak RSS for a 60 s
run against a 10 s run at 64 connections, and its percentiles against a server that times each
request itself (seeded delay mix 90 % 10 ms, 9 % 50 ms, 1 % 200 ms).

Run with `make bench-load` (benches/load.sh builds and installs the tools first).
Only loopback is targeted; every run is bounded in time.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GATECHECK = os.path.join(ROOT, "target", "release", "gatecheck")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNS", "8,64").split(",")]
WORK = tempfile.mkdtemp(prefix="gatecheck-bench-")


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + argv


def start_target(extra=()):
    proc = subprocess.Popen(pinned(0, [GATECHECK, "bench-target", "--port", "0", *extra]),
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://\S+", line)
    if not match:
        proc.kill()
        sys.exit(f"bench-target did not start: {line!r}")
    return proc, match.group(0)


def measured(argv, env=None):
    """Runs argv, returns (wall s, cpu s, peak RSS KiB, stdout)."""
    out_path = os.path.join(WORK, "stdout")
    with open(out_path, "w") as out:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) not in (0,):
        sys.exit(f"{argv[0:4]} exited {os.waitstatus_to_exitcode(status)}")
    with open(out_path) as f:
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, f.read()


def run_gatecheck(url, conns, seconds, summary):
    env = dict(os.environ, PERF_BENCH_URL=url, PERF_BENCH_VUS=str(conns), PERF_BENCH_DURATION=f"{seconds}s", PERF_BENCH_TOKEN="bench")
    argv = pinned(1, [GATECHECK, "smoke", "--quiet", "--scenario", os.path.join(ROOT, "benches/one-endpoint.toml"),
                      "--summary-out", summary, "--log-out", os.path.join(WORK, "smoke.log")])
    wall, cpu, rss, _ = measured(argv, env)
    with open(summary) as f:
        doc = json.load(f)
    requests = doc["metrics"]["http_reqs"]["count"]
    failed = doc["metrics"]["http_req_failed"]["passes"]
    return requests, failed, cpu, rss, doc


def run_oha(url, conns, seconds):
    help_text = subprocess.run(["oha", "--help"], capture_output=True, text=True).stdout
    fmt = ["--output-format", "json"] if "--output-format" in help_text else ["-j"]
    argv = pinned(1, ["oha", "-z", f"{seconds}s", "-c", str(conns), "--no-tui", *fmt, url])
    wall, cpu, rss, out = measured(argv)
    doc = json.loads(out)
    codes = doc.get("statusCodeDistribution", {})
    requests = sum(int(v) for v in codes.values())
    failed = requests - int(codes.get("200", 0))
    return requests, failed, cpu, rss


def run_k6(url, conns, seconds):
    summary = os.path.join(WORK, "k6.json")
    argv = pinned(1, ["k6", "run", "--no-usage-report", "--quiet", "-e", f"URL={url}", "-e", f"VUS={conns}",
                      "-e", f"DURATION={seconds}s", "--summary-export", summary,
                      os.path.join(ROOT, "benches/k6-one-endpoint.js")])
    wall, cpu, rss, _ = measured(argv)
    with open(summary) as f:
        doc = json.load(f)
    requests = doc["metrics"]["http_reqs"]["count"]
    failed = doc["metrics"]["http_req_failed"]["passes"]
    return requests, failed, cpu, rss


def main():
    for tool in ("taskset", "oha", "k6"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (benches/load.sh installs oha and k6)")
    if not os.path.exists(GATECHECK):
        sys.exit("build first: cargo build --release")
    print(f"# gatecheck load benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs, {SECONDS} s x {REPS} interleaved reps; target on CPU 0, generators on CPU 1")
    oha_version = subprocess.run(["oha", "--version"], capture_output=True, text=True).stdout.strip()
    k6_version = subprocess.run(["k6", "version"], capture_output=True, text=True).stdout.strip().split(" (")[0]
    print(f"# tools: {oha_version}, {k6_version}, gatecheck (release build)")
    target, url = start_target()
    results = {}
    try:
        for conns in CONNS:
            for rep in range(REPS):
                for tool, run in (("gatecheck", lambda: run_gatecheck(url, conns, SECONDS, os.path.join(WORK, "g.json"))[:4]),
                                  ("oha", lambda: run_oha(url, conns, SECONDS)),
                                  ("k6", lambda: run_k6(url, conns, SECONDS))):
                    requests, failed, cpu, rss = run()
                    results.setdefault((tool, conns), []).append((requests / SECONDS, cpu * 1e6 / max(requests, 1), rss, failed))
                    print(f"  c={conns:<3} rep {rep + 1} {tool:<9} {requests / SECONDS:>10.0f} req/s  "
                          f"{cpu * 1e6 / max(requests, 1):6.2f} us CPU/req  {rss / 1024:7.1f} MiB  failed {failed}", flush=True)
        print()
        print("| conns | tool | req/s (median) | CPU us/req (median) | peak RSS MiB (max) |")
        print("|---|---|---|---|---|")
        med = lambda xs: sorted(xs)[len(xs) // 2]
        summary = {}
        for conns in CONNS:
            for tool in ("gatecheck", "oha", "k6"):
                rows = results[(tool, conns)]
                summary[(tool, conns)] = (med([r[0] for r in rows]), med([r[1] for r in rows]), max(r[2] for r in rows) / 1024)
                rps, cpu, rss = summary[(tool, conns)]
                print(f"| {conns} | {tool} | {rps:.0f} | {cpu:.2f} | {rss:.1f} |")
        print()
        for conns in CONNS:
            g, o, k = summary[("gatecheck", conns)], summary[("oha", conns)], summary[("k6", conns)]
            print(f"c={conns}: throughput gatecheck/oha = {g[0] / o[0]:.2f} (goal >= 1.0), gatecheck/k6 = {g[0] / k[0]:.2f} "
                  f"(goal >= 5); CPU per request gatecheck/oha = {g[1] / o[1]:.2f} (goal <= 1.0)")

        short = run_gatecheck(url, 64, 10, os.path.join(WORK, "m10.json"))
        long = run_gatecheck(url, 64, 60, os.path.join(WORK, "m60.json"))
        print(f"memory at 64 connections: peak RSS 10 s {short[3] / 1024:.1f} MiB, 60 s {long[3] / 1024:.1f} MiB, "
              f"difference {(long[3] - short[3]) / 1024:+.1f} MiB (goal <= +5 MiB); requests {short[0]} vs {long[0]}")
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait()

    truth_path = os.path.join(WORK, "truth.json")
    target, url = start_target(["--delay-mix", "90:10ms,9:50ms,1:200ms", "--truth-out", truth_path])
    try:
        _, _, _, _, doc = run_gatecheck(url, 32, SECONDS, os.path.join(WORK, "acc.json"))
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait()
    with open(truth_path) as f:
        truth = json.load(f)
    trend = doc["metrics"]["http_req_duration{flow:one}"]
    print(f"accuracy (delay mix 90% 10 ms, 9% 50 ms, 1% 200 ms; 32 connections; {truth['count']} requests; "
          f"client: {doc['gatecheck']['percentile_method']}; server: {truth['method']}):")
    for key, truth_key, goal in (("med", "p50_ms", 0.5), ("p(95)", "p95_ms", 0.5), ("p(99.9)", "p99.9_ms", 1.0)):
        delta = trend[key] - truth[truth_key]
        print(f"  {key:<8} gatecheck {trend[key]:8.3f} ms  server {truth[truth_key]:8.3f} ms  "
              f"difference {delta:+.3f} ms (goal within {goal} ms)")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
