#!/usr/bin/env python3
"""What live remote-write costs the native runner, side by side in one run.

Target: `gatecheck bench-target` pinned to CPU 0; gatecheck smoke pinned to CPU 1 (the
receiver, a real Prometheus with the remote-write receiver and native histograms, shares CPU 0
with the target). Interleaved repetitions of the same run without --remote-write, with the
default 5 s interval, and with a 1 s interval. Printed: requests/s and CPU time per request of
the runner, and their ratios to the run without remote-write.

Run with `python3 benches/remote_write.py` after `cargo build --release` (BENCH_SECONDS,
BENCH_REPS, BENCH_CONNS as for benches/load.py). Only loopback is targeted.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the same target, pinning and measurement)

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
CONNS = int(os.environ.get("BENCH_CONNS", "64"))


def start_prometheus(work):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    proc = subprocess.Popen(load.pinned(0, [
        "prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
        f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
        "--enable-feature=native-histograms"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{url}/-/ready", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("prometheus did not get ready")


def run(url, receiver, interval, rep):
    summary = os.path.join(load.WORK, f"rw-{interval}-{rep}.json")
    env = dict(os.environ, PERF_BENCH_URL=url, PERF_BENCH_VUS=str(CONNS), PERF_BENCH_DURATION=f"{SECONDS}s", PERF_BENCH_TOKEN="bench")
    argv = [load.GATECHECK, "smoke", "--quiet", "--scenario", os.path.join(load.ROOT, "benches/one-endpoint.toml"),
            "--summary-out", summary, "--log-out", os.path.join(load.WORK, "rw.log"), "--run-id", f"bench-{interval}-{rep}"]
    if interval:
        argv += ["--remote-write", f"{receiver}/api/v1/write", "--remote-write-interval", interval]
    wall, cpu, rss, _ = load.measured(load.pinned(1, argv), env)
    import json
    with open(summary) as f:
        doc = json.load(f)
    refused = (doc["gatecheck"].get("remote_write") or {}).get("refused") or []
    if refused:
        sys.exit(f"remote-write refused: {refused}")
    return doc["metrics"]["http_reqs"]["count"], cpu, rss


def main():
    if not os.path.exists(load.GATECHECK):
        sys.exit("build first: cargo build --release")
    prometheus, receiver = start_prometheus(load.WORK)
    target, url = load.start_target()
    results = {None: [], "5s": [], "1s": []}
    try:
        for rep in range(REPS):
            for interval in results:
                results[interval].append(run(url, receiver, interval, rep))
    finally:
        target.send_signal(signal.SIGTERM)
        target.wait()
        prometheus.send_signal(signal.SIGTERM)
        prometheus.wait()
    base_rate = sum(r for r, _, _ in results[None]) / (REPS * SECONDS)
    base_cpu = sum(c for _, c, _ in results[None]) / sum(r for r, _, _ in results[None])
    print(f"remote-write cost, {CONNS} connections, {REPS} x {SECONDS} s interleaved (runner on CPU 1):")
    for interval, runs in results.items():
        requests = sum(r for r, _, _ in runs)
        rate = requests / (REPS * SECONDS)
        cpu = sum(c for _, c, _ in runs) / requests
        rss = max(m for _, _, m in runs) / 1024
        name = f"--remote-write-interval {interval}" if interval else "no remote-write"
        print(f"  {name:<32} {rate:9.0f} req/s ({rate / base_rate:.3f}x)  "
              f"{cpu * 1e6:6.2f} us CPU/request ({cpu / base_cpu:.3f}x)  peak RSS {rss:.1f} MiB")
    shutil.rmtree(load.WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
