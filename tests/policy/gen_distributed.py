#!/usr/bin/env python3
"""Writes distributed.toml: unit tests of gates/distributed.toml (engine "gatecheck") pinning
every threshold's boundary.

Each case is the healthy evidence of a 2-segment run below (what the runners push: counters,
gauges and each flow's latency as a native histogram, in promtool's input_series notation, one
push every 5 s for a minute) with one series moved just under, onto or just over one limit.
Comparisons are strict except `== 1` / `== 0`, where both neighbours breach.

Latency: schema-0 native histograms (bucket i holds (2^(i-1), 2^i]); Prometheus interpolates
linearly inside the bucket the rank falls in, so the counts below are searched (with the same
float arithmetic Prometheus uses) for a p(95)/p(99) exactly on the limit, and one observation
moved between buckets puts it just under or just over. Native histograms are sent to the test
Prometheus by remote write (OpenMetrics cannot carry them). Regenerate:
    python3 tests/policy/gen_distributed.py > tests/policy/distributed.toml
"""

RUN = "r1"
ATTEMPT = "a1"            # every series carries its runner's attempt (run id, start, segments, plan)
START = 1000              # the attempt's common start, unix seconds
PUSHES = 12               # one a 5 s, the last at the evaluation time (at = "55s")
REQUESTS = 10000          # per flow, over the run
# flow -> (kind, p(95) limit s, p(99) limit s)
FLOWS = {"auth_list": ("read", 0.4, 0.7), "rule_poll": ("query", 0.9, 1.2), "provider_log_write": ("write", 0.7, 1.0)}
LOWEST = -2               # the bucket (0.125, 0.25]: where healthy requests are


def quantile(q, buckets):
    """histogram_quantile of Prometheus 2.x over schema-0 buckets {index: count}."""
    total = float(sum(buckets.values()))
    rank, count, index, c = q * total, 0.0, None, 0.0
    for index, c in sorted(buckets.items()):
        count += c
        if count >= rank:
            break
    if count < rank:
        return 2.0 ** index
    rank -= count - c
    lower, upper = 2.0 ** (index - 1), 2.0 ** index
    return lower + (upper - lower) * (rank / c)


def search(q, limit, other_q, other_limit):
    """Buckets whose q-quantile is exactly `limit` with the other quantile under its limit, and
    two neighbours (one observation moved) just under and just over."""
    import math
    k = math.ceil(math.log2(limit))
    ok = lambda b: quantile(other_q, b) < other_limit
    for below in range(int(q * REQUESTS) - 1, REQUESTS // 2, -1):
        for inside in range(1, REQUESTS - below + 1):
            at = {LOWEST: below, k: inside, k + 1: REQUESTS - below - inside}
            if quantile(q, at) != limit or not ok(at):
                continue
            moves = [{LOWEST: below + 1, k: inside - 1, k + 1: REQUESTS - below - inside},
                     {LOWEST: below - 1, k: inside + 1, k + 1: REQUESTS - below - inside},
                     {LOWEST: below, k: inside + 1, k + 1: REQUESTS - below - inside - 1},
                     {LOWEST: below, k: inside - 1, k + 1: REQUESTS - below - inside + 1}]
            moves = [m for m in moves if min(m.values()) >= 0 and ok(m)]
            under = [m for m in moves if quantile(q, m) < limit]
            over = [m for m in moves if quantile(q, m) > limit]
            if under and over:
                return under[0], at, over[0]
    raise SystemExit(f"no exact p({q * 100:g}) = {limit}")


def histogram(buckets):
    """Two segments' histograms (each bucket split between them), constant over the pushes."""
    out = []
    low, high = min(buckets), max(buckets)
    for segment in (1, 2):
        counts = [buckets.get(i, 0) // 2 if segment == 1 else buckets.get(i, 0) - buckets.get(i, 0) // 2
                  for i in range(low, high + 1)]
        total = sum(counts)
        spec = f"{{{{schema:0 sum:{total * 0.2:g} count:{total} buckets:[{' '.join(map(str, counts))}] offset:{low}}}}}"
        out.append((segment, f"{spec}x{PUSHES - 1}"))
    return out


def ramp(total):
    """A counter pushed PUSHES times reaching `total` (whole numbers, ending on it)."""
    return " ".join(str(round(total * (i + 1) / PUSHES)) for i in range(PUSHES))


def flat(value):
    return f"{value}x{PUSHES - 1}"


def latency(flow, buckets):
    return [(f'gatecheck_http_req_duration_seconds{{run_id="{RUN}",flow="{flow}",segment="{segment}"}}', values)
            for segment, values in histogram(buckets)]


def sent(extra=0):
    per = REQUESTS * len(FLOWS) // 2
    return [(f'gatecheck_requests_sent_total{{run_id="{RUN}",segment="1"}}', ramp(per + extra)),
            (f'gatecheck_requests_sent_total{{run_id="{RUN}",segment="2"}}', ramp(per))]


def checks(flow, passed):
    """Check results split over the two segments: `passed` of REQUESTS passed."""
    rows = []
    for i, share in ((1, passed // 2), (2, passed - passed // 2)):
        rows.append((f'gatecheck_checks_total{{run_id="{RUN}",flow="{flow}",result="pass",segment="{i}"}}',
                     ramp(share)))
        rows.append((f'gatecheck_checks_total{{run_id="{RUN}",flow="{flow}",result="fail",segment="{i}"}}',
                     ramp(REQUESTS // 2 - share)))
    return rows


def healthy():
    s = {
        "info": [(f'gatecheck_segment_info{{run_id="{RUN}",segment="{i}"}}', flat(2)) for i in (1, 2)],
        "finished": [(f'gatecheck_segment_finished{{run_id="{RUN}",segment="{i}"}}', flat(1)) for i in (1, 2)],
        "start": [(f'gatecheck_segment_start_time_seconds{{run_id="{RUN}",segment="{i}"}}', flat(START)) for i in (1, 2)],
        "sent": sent(),
        "dropped": [(f'gatecheck_dropped_iterations_total{{run_id="{RUN}",segment="1"}}', flat(0))],
    }
    for flow in FLOWS:
        s[f"{flow}-latency"] = latency(flow, {LOWEST: REQUESTS})
        s[f"{flow}-reqs"] = [(f'gatecheck_http_reqs_total{{run_id="{RUN}",flow="{flow}",segment="{i}"}}',
                              ramp(REQUESTS // 2)) for i in (1, 2)]
        s[f"{flow}-failed"] = [(f'gatecheck_http_req_failed_total{{run_id="{RUN}",flow="{flow}",segment="{i}"}}',
                                flat(0)) for i in (1, 2)]
        s[f"{flow}-checks"] = checks(flow, REQUESTS)
    return s


def of_attempt(group, attempt, start=None):
    """The series of `group` pushed by runners of `attempt` (its start series at `start`)."""
    out = []
    for selector, values in group:
        selector = selector.replace(f'run_id="{RUN}"', f'run_id="{RUN}",attempt="{attempt}"')
        if start is not None and selector.startswith("gatecheck_segment_start_time_seconds"):
            values = flat(start)
        out.append((selector, values))
    return out


def case(name, series, outcome, gates, at="55s"):
    lines = ["", "[[case]]", f'name = "{name}"', f'at = "{at}"', 'interval = "5s"', "series = ["]
    for group in series.values():
        # A series without an attempt is one of the attempt judged.
        group = [(sel, v) if "attempt=" in sel else of_attempt([(sel, v)], ATTEMPT)[0] for sel, v in group]
        for selector, values in group:
            lines.append(f"  {{ series = '{selector}', values = '{values}' }},")
    lines.append("]")
    lines.append("[case.expect]")
    lines.append(f'outcome = "{outcome}"')
    lines.append("[case.expect.gates]")
    lines.extend(f'"{key}" = "{value}"' for key, value in gates.items())
    return "\n".join(lines)


def verdict(status):
    return "ship" if status == "PASS" else "blocked"


out = ["#:schema ../../schemas/policy-test.schema.json",
       "# Generated by gen_distributed.py: every threshold of gates/distributed.toml just under, at",
       "# and just over its limit, on series (native histograms included) judged by a real Prometheus.",
       'policy = "../../gates/distributed.toml"',
       f'vars = {{ run_id = "{RUN}" }}']
every = {g: "PASS" for g in ("runners-reported", "segments-complete", "histograms-complete", "dropped-iterations")}
every.update({f"{kind}-{what}": "PASS" for kind, *_ in FLOWS.values() for what in ("latency", "errors", "checks")})
out.append(case("healthy run ships", healthy(), "ship", every))

# Freshness: the last push 9m55s, 10m, 10m05s before the evaluation time (max_age 10m).
for label, status, at in (("just under", "PASS", "10m50s"), ("at", "FAIL", "10m55s"), ("just over", "FAIL", "11m")):
    out.append(case(f"runners' last push {label} 10m old", healthy(), "blocked", {"runners-reported": status}, at=at))

# segments-complete `value == 1`: 1 of 2 segments finished (0.5), both (1), three of 2 (1.5).
for label, status, finished in (("just under", "FAIL", (1, 0)), ("at", "PASS", (1, 1)), ("just over", "FAIL", (1, 1, 1))):
    s = healthy()
    s["finished"] = [(f'gatecheck_segment_finished{{run_id="{RUN}",segment="{i + 1}"}}', flat(v))
                     for i, v in enumerate(finished)]
    out.append(case(f"segments finished {label} all ({sum(finished)} of 2)", s, verdict(status),
                    {"segments-complete": status}))

# segments-complete counts the segments of one attempt: the run's latest start alone.
# A runner of another attempt at the same start (another segment count or plan: round16-figures/02),
# where segment 2 never finished: two finished runners of two attempts are not one complete run.
s = healthy()
s["finished"] = [row for row in s["finished"] if 'segment="2"' not in row[0]]
s["other"] = [(f'gatecheck_segment_info{{run_id="{RUN}",attempt="a2",segment="0/1"}}', flat(1)),
              (f'gatecheck_segment_finished{{run_id="{RUN}",attempt="a2",segment="0/1"}}', flat(1)),
              (f'gatecheck_segment_start_time_seconds{{run_id="{RUN}",attempt="a2",segment="0/1"}}', flat(START))]
out.append(case("a runner of another attempt at the same start blocks", s, "blocked", {"segments-complete": "FAIL"}))
# Segment 2 pushed by an earlier attempt only (round16-figures/03): the latest lacks it.
s = {key: [row for row in group if 'segment="2"' not in row[0]] for key, group in healthy().items()}
s["earlier"] = [row for group in healthy().values() for row in of_attempt(group, "a0", START - 60)
                if 'segment="2"' in row[0]]
out.append(case("an earlier attempt's segment never completes the latest", s, "blocked",
                {"segments-complete": "FAIL"}))
# A complete latest attempt ships whatever an earlier one pushed (here: every request failed).
s = healthy()
earlier = [row for group in healthy().values() for row in of_attempt(group, "a0", START - 60)]
s["earlier"] = [(sel, ramp(REQUESTS // 2)) if sel.startswith("gatecheck_http_req_failed_total")
                else (sel, flat(0)) if sel.startswith("gatecheck_segment_finished") else (sel, v)
                for sel, v in earlier]
out.append(case("a complete latest attempt ships whatever an earlier attempt pushed", s, "ship", every))

# histograms-complete `value == 0`: the runners sent one request more, as many, one fewer.
for label, status, extra in (("just under", "FAIL", 1), ("at", "PASS", 0), ("just over", "FAIL", -1)):
    s = healthy()
    s["sent"] = sent(extra)
    out.append(case(f"histograms hold {label} every request sent ({-extra:+d})", s, verdict(status),
                    {"histograms-complete": status}))

for flow, (kind, p95, p99) in FLOWS.items():
    for q, limit, other_q, other_limit in ((0.95, p95, 0.99, p99), (0.99, p99, 0.95, p95)):
        stat, ms = f"p({q * 100:g})", f"{round(limit * 1000)}ms"
        for (label, status), buckets in zip((("just under", "PASS"), ("at", "FAIL"), ("just over", "FAIL")),
                                            search(q, limit, other_q, other_limit)):
            s = healthy()
            s[f"{flow}-latency"] = latency(flow, buckets)
            out.append(case(f"{kind} {stat} {label} {ms}", s, verdict(status), {f"{kind}-latency {stat} < {ms}": status}))
    for label, status, failed in (("just under", "PASS", 99), ("at", "FAIL", 100), ("just over", "FAIL", 101)):
        s = healthy()
        s[f"{flow}-failed"] = [(f'gatecheck_http_req_failed_total{{run_id="{RUN}",flow="{flow}",segment="{i}"}}',
                                ramp(share)) for i, share in ((1, failed // 2), (2, failed - failed // 2))]
        out.append(case(f"{kind} errors {label} 1% ({failed} of {REQUESTS})", s, verdict(status),
                        {f"{kind}-errors rate < 1%": status}))
    for label, status, passed in (("just under", "FAIL", 9899), ("at", "FAIL", 9900), ("just over", "PASS", 9901)):
        s = healthy()
        s[f"{flow}-checks"] = checks(flow, passed)
        out.append(case(f"{kind} checks {label} 99% ({passed} of {REQUESTS})", s, verdict(status),
                        {f"{kind}-checks rate > 99%": status}))

for label, status, dropped in (("just under", "PASS", 0), ("at", "FAIL", 1), ("just over", "FAIL", 2)):
    s = healthy()
    s["dropped"] = [(f'gatecheck_dropped_iterations_total{{run_id="{RUN}",segment="1"}}', f"0x{PUSHES - 2} {dropped}")]
    out.append(case(f"dropped iterations {label} 1", s, verdict(status), {"dropped-iterations value < 1": status}))

print("\n".join(out))
