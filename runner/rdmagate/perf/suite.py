"""The perf suite of `check`: the native fast-path measurements of the
stack, here or in the lab, each compared with the stored baseline of its
hardware profile and stack by the statistical verdict (perf/stats.py).

One result line per measurement: PASS when the verdict is same or faster,
FAIL when slower, SKIP when the data cannot tell (inconclusive), when the
device lacks the operation, or when no baseline exists; the verdict, the
ratio and its interval are in the message, and every sample in the run's
native/ directory."""
import time
from pathlib import Path

from ..harness import build
from ..outputs.result import append_results, Result
from . import baseline, native, record

DEFAULT_THRESHOLD = 0.10
ITERS, WARMUP = 2000, 200
ROUNDS = 3   # passes per measurement; the best run of each is compared


def measure(stack, fetched, target, run_dir: Path, names, iters=ITERS, warmup=WARMUP,
            say=lambda text: None, env: dict | None = None, subdir: str = "native"):
    """Run the measurements once at the target; (results by name, its Ran)."""
    perf = build.build_perf(stack.name, None if stack.kind == "host" else fetched.root, say=say)
    jobs = native.passes(names, lambda name: native.job_words(perf, name, iters, warmup,
                                                            target.device, env), ROUNDS)
    out, ran = native.run_jobs(target, stack.name, perf, run_dir, jobs, say=say, subdir=subdir)
    found = native.collect(out, [name for name, _ in jobs])
    return {name: native.best_of(found, name, ROUNDS) for name in names}, ran


def threshold(profile: dict | None) -> float:
    value = ((profile or {}).get("perf") or {}).get("threshold", DEFAULT_THRESHOLD)
    return float(value)


def run(stack, fetched, target, profile_name: str, profile: dict | None, run_dir: Path,
        say=lambda text: None) -> list[Result]:
    started = time.monotonic()
    base_path = baseline.path_for(profile_name, stack.name)
    base = baseline.load(base_path) if base_path.is_file() else None
    names = list(base["measurements"]) if base else list(native.SHORT)
    measured, _ = measure(stack, fetched, target, run_dir, names, say=say)
    limit = threshold(profile)
    lines, verdicts = [], {}
    for name in names:
        result = measured[name]
        outcome, reason, message = "SKIP", "", ""
        if "error" in result:
            outcome, reason = "ERROR", result["error"]
        elif "unsupported" in result:
            reason = f"not measured: {result['unsupported']}"
        elif base is None:
            reason = f"no baseline {base_path.relative_to(baseline.BASELINES.parent.parent)}"
        else:
            cmp = baseline.compare(base, name, result["samples"], limit)
            verdicts[name] = record.Verdict(**cmp.as_dict())
            message = (f"{cmp.verdict}: {cmp.ratio:.3f}x the baseline "
                       f"(99% CI {cmp.low:.3f}-{cmp.high:.3f}, threshold {limit:.0%})")
            outcome = {"same": "PASS", "faster": "PASS", "slower": "FAIL"}.get(cmp.verdict, "SKIP")
            reason = cmp.verdict
        lines.append(Result(f"perf.{name}", "perf", name, outcome, raw_outcome=outcome,
                            reason=reason, message=message or reason,
                            duration_s=round(time.monotonic() - started, 3),
                            stack=stack.name, device=target.device))
    record.write(record.PerfFile(str(base_path) if base else None, limit, verdicts),
                 run_dir / "perf.json")
    append_results(lines, run_dir / "results.jsonl")
    return lines
