"""rdmagate-perf measurements in one lab boot (or here, on a device):
each a distribution of round-trip times or per-operation costs in ns.

A measurement: name -> rdmagate-perf options. Which ones a build has
depends on the microbenchmark (an older build may lack a test: exit 2 or 4
is "not measured", never a zero)."""
import shutil
from pathlib import Path

from ..errors import InfraError
from ..targets import scripts

JOB_SCRIPT = scripts.NATIVE_JOBS
UNSUPPORTED = 4

# name: (options, higher is better?) -- every sample is ns per operation
MEASUREMENTS = {
    "write_lat-2": (["--test", "write", "--size", "2"], False),
    "write_lat-64": (["--test", "write", "--size", "64"], False),
    "write_lat-1024": (["--test", "write", "--size", "1024"], False),
    "write_lat-4096": (["--test", "write", "--size", "4096"], False),
    "write_lat-65536": (["--test", "write", "--size", "65536"], False),
    "write_inline_lat-2": (["--test", "write_inline", "--size", "2"], False),
    "send_lat-2": (["--test", "send", "--size", "2"], False),
    "read_lat-2": (["--test", "read", "--size", "2"], False),
    "atomic_faa_lat": (["--test", "atomic_faa"], False),
    "write_batch-64": (["--test", "write_batch", "--size", "64"], False),
    "write_wr_lat-2": (["--test", "write_wr", "--size", "2"], False),
    "poll_cq_empty": (["--test", "poll_cq"], False),
}
# the latency sweep the upgrade gate plots (RDMA WRITE round trip per size)
SWEEP = ("write_lat-2", "write_lat-64", "write_lat-1024", "write_lat-4096", "write_lat-65536")
SHORT = ("write_lat-2", "write_lat-4096", "send_lat-2", "read_lat-2", "atomic_faa_lat")


def job_words(perf: Path, name: str, iters: int, warmup: int, device: str = "rxe0",
              env: dict | None = None) -> list[str]:
    options, _ = MEASUREMENTS[name]
    return [*(f"{k}={v}" for k, v in (env or {}).items()), str(perf), "--device", device,
            *options, "--iters", str(iters), "--warmup", str(warmup)]


def write_jobs(path: Path, jobs: list[tuple[str, list[str]]]) -> None:
    for name, words in jobs:
        if any(not w or any(c.isspace() for c in w) for w in [name, *words]):
            raise InfraError(f"rdmagate-perf job {name!r}: a word with a space cannot be "
                             "passed to the guest")
    path.write_text("".join(f"{name} {' '.join(words)}\n" for name, words in jobs))


def read_samples(path: Path) -> list[int]:
    """The samples of one output file (header line, then one ns per line)."""
    lines = path.read_text().splitlines()
    if not lines or "test=" not in lines[0]:
        raise InfraError(f"{path}: no rdmagate-perf header line")
    try:
        samples = [int(line) for line in lines[1:] if line.strip()]
    except ValueError as err:
        raise InfraError(f"{path}: a sample is not an integer ({err})") from None
    if not samples or min(samples) <= 0:
        raise InfraError(f"{path}: no samples, or a sample that is not positive")
    return samples


def collect(out: Path, names: list[str]) -> dict:
    """name -> {"samples": [...], "higher_is_better": bool} or {"error": why}."""
    statuses: dict[str, int] = {}
    for line in (out / "status.txt").read_text().splitlines():
        name, _, word = line.partition(" ")
        statuses[name] = int(word) if word.strip().lstrip("-").isdigit() else -1
    found: dict[str, dict] = {}
    for name in names:
        code = statuses.get(name)
        log = out / f"{name}.log"
        why = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        if code is None:
            found[name] = {"error": "did not run"}
        elif code in (2, UNSUPPORTED):
            found[name] = {"unsupported": (why or [f"exit {code}"])[0]}
        elif code != 0:
            found[name] = {"error": f"exit {code}: {(why or [''])[0]}"}
        else:
            found[name] = {"samples": read_samples(out / f"{name}.txt"),
                           "higher_is_better": MEASUREMENTS.get(name.split(".")[0],
                                                                ([], False))[1]}
    return found


def passes(names, words_of, rounds: int) -> list[tuple[str, list[str]]]:
    """Jobs for `rounds` interleaved passes over the measurements (NAME.K)."""
    return [(f"{name}.{k}", words_of(name)) for k in range(rounds) for name in names]


def runs_of(found: dict, name: str, rounds: int) -> dict:
    """Every run of a measurement among its passes, each kept whole (the
    run is the unit of replication, perf/stats.py): {"runs": [[samples],
    ...], "higher_is_better": bool, "failed": N}, or the first pass's
    error or unsupported when no pass gave samples."""
    passes = [found[f"{name}.{k}"] for k in range(rounds)]
    good = [r for r in passes if "samples" in r]
    if not good:
        return passes[0]
    return {"runs": [r["samples"] for r in good], "boots": 1,
            "higher_is_better": good[0]["higher_is_better"], "failed": len(passes) - len(good)}


def merge(into: dict | None, more: dict) -> dict:
    """The runs of a measurement from two boots, as one (errors kept when
    neither boot measured it)."""
    if "runs" not in more:
        return into or more
    if into is None or "runs" not in into:
        return dict(more)
    return dict(into, runs=into["runs"] + more["runs"],
                boots=into.get("boots", 1) + more.get("boots", 1),
                failed=into.get("failed", 0) + more.get("failed", 0))


def run_jobs(target, stack_name: str, perf: Path, run_dir: Path,
             jobs: list[tuple[str, list[str]]], say=lambda text: None, subdir: str = "native",
             profile: bool = False):
    """Run the jobs at the target, all in one run (one lab boot);
    (directory of the results, the target's Ran). With profile, the target
    then waits for the host's profile.jobs and profiles them
    (native_jobs.sh, profile_job.sh beside it)."""
    out = run_dir / subdir
    out.mkdir(parents=True, exist_ok=False)
    write_jobs(out / "jobs.txt", jobs)
    script = out / JOB_SCRIPT.name
    shutil.copyfile(JOB_SCRIPT, script)
    argv = ["sh", str(script), str(out), str(out / "jobs.txt")]
    if profile:
        shutil.copyfile(scripts.PROFILE_JOB, out / scripts.PROFILE_JOB.name)
        argv.append(str(out / scripts.PROFILE_JOB.name))
    say(f"rdmagate-perf: {len(jobs)} jobs on {stack_name} at {target.describe()}")
    ran = target.run(argv, shares=[(run_dir, True), (perf.parent.parent.parent, False)],
                     say=say, timeout=1800)
    if ran.exit_status != 0:
        raise InfraError(f"rdmagate-perf: the job script failed (exit {ran.exit_status}); "
                         f"see {out}")
    return out, ran
