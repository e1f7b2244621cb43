#!/usr/bin/python3
"""Benchmark: does the perf verdict hold across boots and machines? The
validation of the method (perf/stats.py, perf/calibrate.py), on rxe in the
lab, one measurement (write_lat-2), each comparison made as a check makes
it: a fresh session of boots, runs added until decisive or the check's
budget is spent, compared with a baseline recorded as `baseline record`
records one (--baseline-boots boots, every run kept, the calibration beside).

  (a) A/A across boots: this machine's baseline against new sessions
  (b) A/A against a baseline from "another machine", simulated honestly: it
      is recorded with the guest given --other-guest-cpus CPUs (1; the
      lab's --guest-cpus, so its machine record says so and the comparison
      corrects by the calibration or says not comparable), and while
      --hogs busy processes (0) share the machine
  (c) an injected slowdown of --slowdown (librdmagate-slowdown.so, a busy
      wait in every ibv_post_send, a fraction of the median) against (a)'s
      baseline
  (d) the slowed sessions of (c) against (b)'s baseline

(b) and (d) reuse the sessions of (a) and (c), compared with the other
baseline: the same measured data judged against two references. Targets:
at most 1 false "slower" and 1 false "faster" in each A/A set,
(c) "slower" at least 19 times in 20, (d) never "faster" or "same".
Prints the seconds each comparison took (its boots).

Usage: PYTHONPATH=runner bench/perf_verdict.py [--stack debian-12]
       [--comparisons 20] [--slowdown 0.10] [--other-guest-cpus 1] [--hogs 0]
       [--budget S] [--minutes M] [--save FILE] [--replay FILE]"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

try:   # the runner package: PYTHONPATH=runner, as the README says
    from rdmagate.errors import InfraError
    from rdmagate.harness import build
    from rdmagate.perf import baseline, calibrate, suite
    from rdmagate.perf.budget import Budget
    from rdmagate.stacks import fetch, resolve
    from rdmagate.targets import Lab
except ModuleNotFoundError:
    sys.exit("bench/perf_verdict.py: run it from the checkout as PYTHONPATH=runner bench/perf_verdict.py")

MEASUREMENT = "write_lat-2"


class Session(suite.Session):
    """A boot whose guest died (QEMU under TCG crashed here once with SIGSEGV
    while the machine was loaded) is booted again, once: the bench measures
    the verdict, not the emulator."""
    def boot(self, names, runs=suite.RUNS):
        try:
            super().boot(names, runs)
        except InfraError as err:
            print(f"  boot {self.boots} of {self.subdir} failed ({err}); once more", flush=True)
            super().boot(names, runs)


def session(stack, fetched, tmp: Path, name: str, env=None, guest_cpus=None):
    return Session(stack, fetched, Lab(stack.name, "bench", guest_cpus=guest_cpus), tmp,
                   subdir=name, env=env)


def record(stack, fetched, tmp: Path, name: str, boots: int, guest_cpus=None) -> dict:
    """A baseline as `baseline record` makes one, loaded back as a check reads it."""
    s = session(stack, fetched, tmp, name, guest_cpus=guest_cpus)
    suite.adaptive([s], [MEASUREMENT], lambda n: False, max_runs=suite.RUNS * boots)
    path = baseline.write(tmp / "baselines" / "rxe" / f"{stack.name}.json", "rxe", s,
                          s.results)
    data = baseline.load(path)
    path.unlink()
    return data


def hogs(count: int) -> list[subprocess.Popen]:
    """Busy processes: the other machine is this one with less CPU to spare."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             start_new_session=True) for _ in range(count)]


def check(stack, fetched, tmp, name, stored, threshold, budget, env=None):
    """One comparison as check makes it: (Comparison, its session, seconds)."""
    s = session(stack, fetched, tmp, name, env)
    verdicts = {}

    def decided(n):
        verdicts[n] = baseline.compare(stored, n, s.results[n]["runs"], threshold,
                                       s.machine, s.calibration, s.results[n]["boots"])
        return calibrate.settled(verdicts[n])
    # a check's shape: RUNS runs a boot (a check boots over its 12 measurements
    # at 4 runs each), boots added until decisive, MAX_RUNS or the budget
    seconds = suite.adaptive([s], [MEASUREMENT], decided, Budget(budget))
    return verdicts[MEASUREMENT], s, seconds


def save(path: str, name: str, s, slowed_ns: int, load: float, seconds: float) -> None:
    line = {"boot": name, "slowed_ns": slowed_ns, "load": [load, os.getloadavg()[0]],
            "seconds": round(seconds, 1), "boots": s.boots,
            "runs": [statistics.median(r) for r in s.results[MEASUREMENT]["runs"]],
            "calibration": [statistics.median(r) for r in s.calibration]}
    with open(path, "a") as out:
        out.write(json.dumps(line) + "\n")


def replay(path: str, comparisons: int, threshold: float, base_boots: int = 6,
           check_boots: int = 4) -> int:
    """Sets (a) and (c) judged again from saved sessions (--save lines), each
    line a boot or more of runs: a baseline of base_boots plain sessions drawn
    at random, a check of check_boots others, plain (a) or slowed (c), judged
    as check judges (the lab's boot effect, perf/stats.py). The draws share
    sessions, so the comparisons are not independent: a view of the method on
    real boots, not a new measurement. Also the boot effect the lines show:
    the sd of their log-means beside what their runs' spread predicts."""
    import math
    import random
    from rdmagate.perf import machine, stats
    lines = [json.loads(text) for text in Path(path).read_text().splitlines() if text.strip()]
    plain = [x for x in lines if not x["slowed_ns"]]
    slowed = [x for x in lines if x["slowed_ns"]]
    for name, group in (("plain", plain), ("slowed", slowed)):
        means = [statistics.fmean(map(math.log, x["runs"])) for x in group]
        within = statistics.fmean(statistics.stdev(map(math.log, x["runs"])) /
                                  math.sqrt(len(x["runs"])) for x in group)
        print(f"{name}: {len(group)} sessions, their log-means sd {statistics.stdev(means):.3f}, "
              f"their runs predict {within:.3f}")
    if len(plain) < base_boots + check_boots or len(slowed) < check_boots:
        print(f"replay needs {base_boots + check_boots} plain and {check_boots} slowed sessions")
        return 2
    rng = random.Random(1)
    rows = {"a": [], "c": []}
    for _ in range(comparisons):
        drawn = rng.sample(plain, base_boots + check_boots)
        base, now = drawn[:base_boots], drawn[base_boots:]
        for key, side in (("a", now), ("c", rng.sample(slowed, check_boots))):
            cmp = stats.compare([r for x in base for r in x["runs"]],
                                [r for x in side for r in x["runs"]], threshold,
                                boot=machine.LAB_BOOT_EFFECT,
                                boots=(sum(x.get("boots", 1) for x in base),
                                       sum(x.get("boots", 1) for x in side)))
            rows[key].append((cmp.verdict, cmp.ratio))
    print(f"replay of {path}: {comparisons} comparisons a set, baselines of {base_boots} "
          f"sessions, checks of {check_boots}, boot effect sd {machine.LAB_BOOT_EFFECT.sd}")
    for key, title in (("a", "A/A across boots"), ("c", "slowed against plain")):
        got = Counter(v for v, _ in rows[key])
        print(f"({key}) {title:<24} slower {got['slower']:>3} same {got['same']:>3} faster "
              f"{got['faster']:>3} inconclusive {got['inconclusive']:>3} median ratio "
              f"{statistics.median(r for _, r in rows[key]):.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="debian-12")
    parser.add_argument("--comparisons", type=int, default=20)
    parser.add_argument("--slowdown", type=float, default=0.10)
    parser.add_argument("--threshold", type=float, default=suite.DEFAULT_THRESHOLD)
    parser.add_argument("--hogs", type=int, default=0)
    parser.add_argument("--other-guest-cpus", type=int, default=1)
    parser.add_argument("--baseline-boots", type=int, default=2)
    parser.add_argument("--save", metavar="FILE", default=None,
                        help="append each session's run and calibration medians, one JSON "
                        "line (bench/perf_drift.py --analyse reads them)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="start no comparison after this many minutes (the table then "
                        "has fewer a set)")
    parser.add_argument("--budget", type=float, default=suite.BUDGET_S,
                        help="seconds a comparison may spend on boots (default: check's)")
    parser.add_argument("--replay", metavar="FILE", default=None,
                        help="boot nothing: judge sets (a) and (c) again from the sessions a "
                        "--save FILE kept (see replay())")
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay, args.comparisons, args.threshold)
    stack = resolve(args.stack)
    fetched = fetch(stack)
    perf = build.build_perf(stack.name, None if stack.kind == "host" else fetched.root,
                            say=lambda text: None)
    shim = perf.parent / build.SHIM_NAME
    rows = {k: [] for k in "abcd"}   # (verdict, ratio, seconds, note)
    with tempfile.TemporaryDirectory(prefix="rdmagate-bench-") as tmp:
        tmp = Path(tmp)
        started = time.monotonic()
        here = record(stack, fetched, tmp, "baseline-here", args.baseline_boots)
        running = hogs(args.hogs)
        try:
            other = record(stack, fetched, tmp, "baseline-other", args.baseline_boots,
                           args.other_guest_cpus)
        finally:
            for p in running:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        print(f"baselines recorded in {time.monotonic() - started:.0f} s; calibration "
              f"ratio other/here "
              f"{statistics.median(map(statistics.median, other['calibration']['runs'])) / statistics.median(map(statistics.median, here['calibration']['runs'])):.3f}",
              flush=True)
        median = statistics.median(s for run in here["measurements"][MEASUREMENT]["runs"]
                                   for s in run)
        delay = int(median * args.slowdown)
        env = {"LD_PRELOAD": str(shim), "RDMAGATE_SLOWDOWN_NS": str(delay)}
        loads = [os.getloadavg()[0]]
        done = 0
        for i in range(args.comparisons):
            if args.minutes and time.monotonic() - started > args.minutes * 60:
                print(f"  --minutes {args.minutes:g} passed: {done} comparisons a set", flush=True)
                break
            done += 1
            for plain, slowed, extra in (("a", "b", None), ("c", "d", env)):
                cmp, s, seconds = check(stack, fetched, tmp, f"{plain}{i}", here,
                                        args.threshold, args.budget, extra)
                rows[plain].append((cmp.verdict, cmp.ratio, seconds, s.boots, cmp.note))
                if args.save:
                    save(args.save, f"{plain}{i}", s, delay if extra else 0, loads[-1], seconds)
                t0 = time.monotonic()
                against = baseline.compare(other, MEASUREMENT, s.results[MEASUREMENT]["runs"],
                                           args.threshold, s.machine, s.calibration,
                                           s.results[MEASUREMENT]["boots"])
                rows[slowed].append((against.verdict, against.ratio,
                                     seconds + time.monotonic() - t0, s.boots, against.note))
                print(f"  {plain}{i}: {cmp.verdict} {cmp.ratio:.3f} in {seconds:.0f} s "
                      f"({s.boots} boots, {s.runs(MEASUREMENT)} runs); {slowed}{i}: "
                      f"{against.verdict} {against.ratio:.3f} {against.note[:60]}", flush=True)
                loads.append(os.getloadavg()[0])
    titles = {"a": "A/A across boots, this machine",
              "b": f"A/A vs other-machine baseline ({args.other_guest_cpus} guest CPU, "
                   f"{args.hogs} hog)",
              "c": f"+{args.slowdown:.0%} slowdown ({delay / 1000:.1f} us), this machine",
              "d": f"+{args.slowdown:.0%} slowdown vs other-machine baseline"}
    print(f"\nstack {stack.name}, {MEASUREMENT}, threshold {args.threshold:.0%}, "
          f"{done} comparisons a set, median {median / 1000:.1f} us, "
          f"{suite.ITERS} samples a run; host load {min(loads):.1f} to {max(loads):.1f} "
          f"(median {statistics.median(loads):.1f}) on {os.cpu_count()} cores")
    print(f"{'set':<52} {'slower':>6} {'same':>5} {'faster':>6} {'inconcl':>7} "
          f"{'median ratio':>12} {'s/comparison':>12} {'boots':>5}")
    for key, title in titles.items():
        got = Counter(v for v, *_ in rows[key])
        ratios = [r for _, r, *_ in rows[key]]
        seconds = [s for _, _, s, *_ in rows[key]]
        boots = [b for *_, b, _ in rows[key]]
        print(f"({key}) {title:<48} {got['slower']:>6} {got['same']:>5} {got['faster']:>6} "
              f"{got['inconclusive']:>7} {statistics.median(ratios):>12.3f} "
              f"{statistics.median(seconds):>12.0f} {statistics.median(boots):>5.0f}")
    notes = Counter(n.split(" (")[0][:70] for key in "bd" for *_, n in rows[key] if n)
    for note, count in notes.items():
        print(f"  note x{count}: {note}")
    print(f"calibration: correction doubt {calibrate.CORRECTION_DOUBT:.0%}, same speed within "
          f"{calibrate.SAME_SPEED:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
