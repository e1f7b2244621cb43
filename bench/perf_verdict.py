#!/usr/bin/python3
"""Benchmark: is the perf verdict honest on rxe in the lab? Prints its
false-alarm rate (A/A: the same stack measured in two boots, compared pair
by pair) and its detection power (the same comparison against runs slowed
by a known delay: suites/perf/slowdown_shim.c adds RDMAGATE_SLOWDOWN_NS to
every ibv_post_send, set to a fraction of the small-message median).

Boot 1 measures N times; boot 2 measures N times and N times slowed,
interleaved; each measurement is the best of suite.ROUNDS runs, as in a check. Comparisons cross boots, as a check against a stored baseline
does. Targets (issue 7): at most 1 false "slower" in 20, and a 20% slowdown
called "slower" in at least 19 of 20.
Usage: bench/perf_verdict.py [--stack debian-12] [--pairs 20] [--iters 2000]
       [--slowdown 0.2] [--threshold T]"""
import argparse
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

try:   # the runner package: PYTHONPATH=runner, as the README says
    from rdmagate.harness import build
    from rdmagate.perf import native, stats, suite
    from rdmagate.stacks import fetch, resolve
    from rdmagate.targets import Lab, lab
except ModuleNotFoundError:
    sys.exit("bench/perf_verdict.py: run it from the checkout as PYTHONPATH=runner bench/perf_verdict.py")

MEASUREMENT = "write_lat-2"


def boot(stack, fetched, perf, run_dir, jobs, subdir):
    """Each job is measured as the check does: the best of suite.ROUNDS runs."""
    rounds = [(f"{name}.{k}", words) for k in range(suite.ROUNDS) for name, words in jobs]
    out, _ = native.run_jobs(Lab(stack.name, "bench"), stack.name, perf, run_dir, rounds,
                             subdir=subdir)
    found = native.collect(out, [name for name, _ in rounds])
    best = {name: native.best_of(found, name, suite.ROUNDS) for name, _ in jobs}
    bad = {n: r for n, r in best.items() if "samples" not in r}
    if bad:
        sys.exit(f"perf_verdict: runs failed: {bad}")
    return {name: r["samples"] for name, r in best.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="debian-12")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--iters", type=int, default=suite.ITERS)
    parser.add_argument("--slowdown", type=float, default=0.2)
    parser.add_argument("--threshold", type=float, default=suite.DEFAULT_THRESHOLD)
    args = parser.parse_args()
    stack = resolve(args.stack)
    fetched = fetch(stack)
    perf = build.build_perf(stack.name, None if stack.kind == "host" else fetched.root,
                            say=lambda text: None)
    shim = perf.parent / build.SHIM_NAME
    if not shim.is_file():
        sys.exit(f"perf_verdict: {shim} is not built")
    device = lab.DEVICE

    def words(env=None):
        return native.job_words(perf, MEASUREMENT, args.iters, suite.WARMUP, device, env)

    with tempfile.TemporaryDirectory(prefix="rdmagate-bench-") as tmp:
        first = boot(stack, fetched, perf, Path(tmp),
                     [(f"a{i}", words()) for i in range(args.pairs)], "boot1")
        median = statistics.median(s for run in first.values() for s in run)
        delay = int(median * args.slowdown)
        env = {"LD_PRELOAD": str(shim), "RDMAGATE_SLOWDOWN_NS": str(delay)}
        jobs = []
        for i in range(args.pairs):
            jobs += [(f"b{i}", words()), (f"s{i}", words(env))]
        second = boot(stack, fetched, perf, Path(tmp), jobs, "boot2")
    aa_cmp = [stats.compare(first[f"a{i}"], second[f"b{i}"], args.threshold)
              for i in range(args.pairs)]
    slowed = [stats.compare(first[f"a{i}"], second[f"s{i}"], args.threshold)
              for i in range(args.pairs)]
    aa, detected = Counter(c.verdict for c in aa_cmp), Counter(c.verdict for c in slowed)

    def spread(prefix, runs):
        medians = sorted(statistics.median(runs[f"{prefix}{i}"]) / 1000
                         for i in range(args.pairs))
        return f"{medians[0]:.1f}/{statistics.median(medians):.1f}/{medians[-1]:.1f} us"

    print(f"stack {stack.name}, {MEASUREMENT}, {args.pairs} pairs of {args.iters} samples, "
          f"threshold {args.threshold:.0%}, median {median / 1000:.1f} us")
    print(f"run medians min/median/max: boot 1 {spread('a', first)}, boot 2 "
          f"{spread('b', second)}, boot 2 slowed {spread('s', second)}")
    print(f"A/A (boot 1 vs boot 2):      false 'slower' {aa['slower']}/{args.pairs}   "
          f"verdicts {dict(aa)}   ratios {statistics.median(c.ratio for c in aa_cmp):.3f} "
          f"(max {max(c.ratio for c in aa_cmp):.3f})")
    print(f"injected +{delay / 1000:.1f} us ({args.slowdown:.0%}): 'slower' "
          f"{detected['slower']}/{args.pairs}   verdicts {dict(detected)}   "
          f"median ratio {statistics.median(c.ratio for c in slowed):.3f}")
    for other in (0.10, 0.15, 0.20, 0.25):
        false = sum(stats.compare(first[f"a{i}"], second[f"b{i}"], other).verdict == "slower"
                    for i in range(args.pairs))
        hits = sum(stats.compare(first[f"a{i}"], second[f"s{i}"], other).verdict == "slower"
                   for i in range(args.pairs))
        print(f"  threshold {other:.0%}: false 'slower' {false}/{args.pairs}, "
              f"detected {hits}/{args.pairs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
