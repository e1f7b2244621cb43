#!/usr/bin/python3
"""Benchmark: how much do whole lab sessions (boots) differ, and does the
calibration of the same boot track it? The data behind the perf method's
session correction (perf/calibrate.py, README "Performance: the method").

Boots --boots sessions of one stack in the lab, alternating plain and slowed
(librdmagate-slowdown.so, --slowdown of the first boot's median a post),
each one boot with --runs runs of write_lat-2 and --cal-runs runs of
rdmagate-calibrate interleaved, and the host's load average before and
after. Writes one JSON line a boot (each run's median, ns) to --out, then
prints the analysis: every pair of sessions compared, plain against plain
(A/A) and plain against slowed, with and without the calibration correction
of the same boot.

  PYTHONPATH=runner bench/perf_drift.py [--stack debian-12] [--boots 10]
        [--runs 8] [--cal-runs 4] [--out FILE]
  PYTHONPATH=runner bench/perf_drift.py --analyse FILE"""
import argparse
import itertools
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

try:   # the runner package: PYTHONPATH=runner, as the README says
    from rdmagate.harness import build
    from rdmagate.perf import calibrate, stats, suite
    from rdmagate.stacks import fetch, resolve
    from rdmagate.targets import Lab
except ModuleNotFoundError:
    sys.exit("bench/perf_drift.py: run it from the checkout as PYTHONPATH=runner bench/perf_drift.py")

MEASUREMENT = "write_lat-2"


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def gather(args) -> None:
    stack = resolve(args.stack)
    fetched = fetch(stack)
    perf = build.build_perf(stack.name, None if stack.kind == "host" else fetched.root,
                            say=lambda text: None)
    shim = perf.parent / build.SHIM_NAME
    calibrate.RUNS_A_BOOT = args.cal_runs   # this bench's own choice, not the suite's
    delay = None
    with tempfile.TemporaryDirectory(prefix="rdmagate-drift-") as tmp, \
            open(args.out, "a") as out:
        for i in range(args.boots):
            slowed = i % 2 == 1
            env = {"LD_PRELOAD": str(shim), "RDMAGATE_SLOWDOWN_NS": str(delay)} \
                if slowed else None
            s = suite.Session(stack, fetched, Lab(stack.name, "bench"), Path(tmp),
                              subdir=f"boot{i}", env=env)
            before, t0 = load(), time.monotonic()
            s.boot([MEASUREMENT], max(args.runs, args.cal_runs))
            runs = [statistics.median(r) for r in s.results[MEASUREMENT]["runs"]]
            if delay is None:
                delay = int(statistics.median(runs) * args.slowdown)
            line = {"boot": i, "slowed_ns": delay if slowed else 0, "load": [before, load()],
                    "seconds": round(time.monotonic() - t0, 1), "runs": runs,
                    "calibration": [statistics.median(r) for r in s.calibration]}
            out.write(json.dumps(line) + "\n")
            out.flush()
            print(f"boot {i}: {'slowed' if slowed else 'plain'} median "
                  f"{statistics.median(runs):.0f} ns, calibration "
                  f"{statistics.median(line['calibration']):.0f} ns, load {before}, "
                  f"{line['seconds']} s", flush=True)


def sides(boot: dict) -> tuple[list, list]:
    return boot["runs"], boot["calibration"]


def correction(a: dict, b: dict) -> stats.Adjustment:
    """The calibration's shift from boot a to boot b, with its own variance."""
    ca, cb = stats.side(a["calibration"], "calibration"), stats.side(b["calibration"], "calibration")
    va, vb = ca.var / ca.runs, cb.var / cb.runs
    df = (va + vb) ** 2 / (va * va / (ca.runs - 1) + vb * vb / (cb.runs - 1)) \
        if va + vb > 0 else math.inf
    return stats.Adjustment(cb.mean - ca.mean, va + vb, df)


def analyse(path: str, threshold: float) -> None:
    boots = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    print(f"{'boot':>4} {'kind':>6} {'load':>11} {'median ns':>9} {'runs sd':>7} "
          f"{'cal ns':>7} {'cal sd':>6}")
    for b in boots:
        m, c = stats.side(b["runs"], "runs"), stats.side(b["calibration"], "cal")
        print(f"{b['boot']:>4} {'slowed' if b['slowed_ns'] else 'plain':>6} "
              f"{b['load'][0]:>5.1f}-{b['load'][1]:<5.1f} {math.exp(m.mean):>9.0f} "
              f"{math.sqrt(m.var):>7.3f} {math.exp(c.mean):>7.0f} {math.sqrt(c.var):>6.3f}")
    plain = [b for b in boots if not b["slowed_ns"]]
    slowed = [b for b in boots if b["slowed_ns"]]
    for kind, group in (("plain", plain), ("slowed", slowed)):
        if len(group) < 3:
            continue
        m = [stats.side(b["runs"], "r").mean for b in group]
        c = [stats.side(b["calibration"], "c").mean for b in group]
        within = statistics.fmean(stats.side(b["runs"], "r").var / len(b["runs"]) for b in group)
        corr = statistics.correlation(m, c) if len(set(c)) > 1 else math.nan
        slope = statistics.linear_regression(c, m).slope if len(set(c)) > 1 else math.nan
        loads = [statistics.fmean(b["load"]) for b in group]
        print(f"{kind}: {len(group)} boots; between-boot sd of log median "
              f"{statistics.stdev(m):.3f} (the runs' mean alone would give "
              f"{math.sqrt(within):.3f}); calibration sd {statistics.stdev(c):.3f}; "
              f"corrected sd {statistics.stdev([x - y for x, y in zip(m, c)]):.3f}; "
              f"correlation with the calibration {corr:.2f}, slope {slope:.2f}; "
              f"with the load {statistics.correlation(m, loads):.2f}")
    for title, pairs in (("A/A, plain against plain", list(itertools.combinations(plain, 2))),
                         ("plain against slowed", [(a, b) for a in plain for b in slowed])):
        if not pairs:
            continue
        print(f"{title}, {len(pairs)} pairs of boots, threshold {threshold:.0%}:")
        for name, adjust in (("as measured", lambda a, b: None),
                             ("corrected by the calibration", correction)):
            got, ratios = {}, []
            for a, b in pairs:
                cmp = stats.compare(a["runs"], b["runs"], threshold, adjust=adjust(a, b))
                got[cmp.verdict] = got.get(cmp.verdict, 0) + 1
                ratios.append(cmp.ratio)
            print(f"  {name:<30} " + ", ".join(f"{k} {v}" for k, v in sorted(got.items()))
                  + f"; ratios {min(ratios):.3f} to {max(ratios):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="debian-12")
    parser.add_argument("--boots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--cal-runs", type=int, default=4)
    parser.add_argument("--slowdown", type=float, default=0.10)
    parser.add_argument("--out", default="perf-drift.jsonl")
    parser.add_argument("--analyse", metavar="FILE")
    parser.add_argument("--threshold", type=float, default=suite.DEFAULT_THRESHOLD)
    args = parser.parse_args()
    if not args.analyse:
        gather(args)
    analyse(args.analyse or args.out, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
