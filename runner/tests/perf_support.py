"""Perf measurements without a guest, for the tests of `check --suite perf`
and the gate's perf phase: a baseline written to a test's own directory,
and Session.boot replaced by one that keeps runs of planned medians the way
the real boot keeps rdmagate-perf's (every run, the calibration beside
them, the machine of the first boot); or, for the real boot, a target
whose run leaves the outputs the guest's job script would."""
import json
import random
import tempfile
from pathlib import Path
from unittest import mock

from rdmagate.perf import baseline, machine
from rdmagate.targets import Ran

LAB = {"where": "lab", "cpu_model": "AMD EPYC", "cpu_flags": "ab12", "cores": 2,
       "memory_gib": 24, "host_kernel": "6.1.0-27-amd64", "qemu": "7.2.22 (Debian)",
       "accel": "tcg", "guest_cpus": 2, "guest_memory_mb": 1024}
DEVICE = {"where": "device", "cpu_model": "AMD EPYC", "cpu_flags": "ab12", "cores": 2,
          "memory_gib": 24, "host_kernel": "6.1.0-27-amd64", "device": "rxe rxe0",
          "firmware": "unknown", "pcie_link": "none"}
CAL_NS = 9000.0


class Target:
    """What the perf code asks of a target (and profiles.name_for of it)."""
    kind, device, nodes = "rxe", "rxe0", 1

    def __init__(self, facts=LAB, kernel="6.1.0-27-amd64", stack_name=""):
        self.facts, self.kernel, self.stack_name = facts, kernel, stack_name
        self.runs_perftest = facts["where"] == "lab"
        self.exact = "clock" in facts

    def identity(self):
        return None

    def for_measuring(self):
        return self

    def describe(self):
        return "a planned target"

    def run(self, argv, shares=(), say=None, timeout=None, **_):
        """What the guest's perf job script leaves (perf/native.py collect()):
        every job of argv's jobs.txt ran, 20 samples of 1000 ns."""
        out, jobs = Path(argv[2]), Path(argv[3]).read_text().splitlines()
        names = [line.split()[0] for line in jobs]
        (out / "status.txt").write_text("".join(f"{name} 0\n" for name in names))
        for name in names:
            (out / f"{name}.txt").write_text("# rdmagate-perf test=planned\n" + "1000\n" * 20)
        return Ran(0, self.kernel, {"lab": {"accel": "tcg", "guest_cpus": 2,
                                            "guest_memory_mb": 1024,
                                            **({"clock": self.facts["clock"]}
                                               if "clock" in self.facts else {})}})

    def kernel_release(self):
        return self.kernel


def own_baselines(test) -> tuple[Path, Path]:
    """A temporary directory for the test, its baselines/perf the one
    perf/baseline.py reads: (the directory, the baselines); both undone
    when the test ends."""
    tmp = tempfile.TemporaryDirectory()
    test.addCleanup(tmp.cleanup)
    root = Path(tmp.name)
    patched = mock.patch.object(baseline, "BASELINES", root / "baselines" / "perf")
    patched.start()
    test.addCleanup(patched.stop)
    return root, root / "baselines" / "perf"


def without_boot_effect(test) -> None:
    """For the test's length, lab comparisons count no boot effect
    (perf/stats.py): for tests of a rule on runs of one boot; the boot
    effect has its own tests (test_perf_stats, test_perf_suite_data)."""
    patched = mock.patch.object(machine, "LAB_BOOT_EFFECT", None)
    patched.start()
    test.addCleanup(patched.stop)


def runs(rng, median: float, count: int, spread: float = 0.01) -> list[list[int]]:
    """count runs of 20 samples, each run's median `median` times a
    run-to-run factor of about `spread` (lognormal)."""
    out = []
    for _ in range(count):
        centre = median * rng.lognormvariate(0, spread)
        out.append([max(1, round(centre * rng.lognormvariate(0, 0.002))) for _ in range(20)])
    return out


def write_baseline(root: Path, profile: str, stack: str, medians: dict, facts=LAB,
                   count: int = 8, seed: int = 1) -> Path:
    """A format-2 baseline of `count` runs a measurement (name -> median ns)."""
    rng = random.Random(seed)
    path = root / profile / f"{stack}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format": 2, "profile": profile, "stack": stack, "boots": 2, "machine": dict(facts),
        "calibration": {"runs": runs(rng, CAL_NS, count)},
        "measurements": {name: {"higher_is_better": False, "runs": runs(rng, ns, count)}
                         for name, ns in medians.items()}}))
    return path


def fake_boot(plan: dict, seed: int = 2, profile=None):
    """A Session.boot: plan is name -> a median in ns, (median, spread), or
    {"error": why} / {"unsupported": why} (what native.runs_of gives then).
    A name not in the plan did not run. A plan may instead map stack names
    to plans (two sides of a gate). With a meeting, the boot meets it with
    its results and keeps profile(session, name) of each name it chose."""
    rng = random.Random(seed)

    def boot(session, names, runs_a_boot=4, meeting=None):
        side = plan.get(session.stack.name, plan)
        session.boots += 1
        session.machine = session.machine or dict(session.target.facts)
        session.kernel = session.target.kernel
        session.calibration += runs(rng, CAL_NS, min(runs_a_boot, 2))
        for name in names:
            what = side.get(name, {"error": "did not run"})
            if isinstance(what, dict):
                session.results[name] = dict(what)
                continue
            median, spread = what if isinstance(what, tuple) else (what, 0.01)
            got = session.results.setdefault(name, {"higher_is_better": False, "runs": []})
            got["runs"] += runs(rng, median, runs_a_boot, spread)
        if meeting:
            chosen = meeting.meet(session, {n: session.results[n] for n in names})
            session.profiles.update({n: profile(session, n) for n in chosen})
    return boot


def fake_sweep(plan: dict, calls: list):
    """A perftest_run.run_sweep: plan is stack name -> size -> MiB/s (its
    runs about 1% apart) or an error (the job failed); each call is kept in
    calls."""
    rng = random.Random(3)

    def run_sweep(target, run_dir, sweep, say=lambda text: None, name="perftest"):
        calls.append(name)
        out = []
        for job in sweep.jobs():
            what = plan[target.stack_name][job["size"]]
            if isinstance(what, str):
                out.append({"tool": f"ib_{job['tool']}", "size": job["size"], "ok": False,
                            "error": what})
                continue
            mib = what * rng.lognormvariate(0, 0.01)
            out.append({"tool": f"ib_{job['tool']}", "size": job["size"], "ok": True,
                        "metrics": {"bw_avg_Bps": mib * 1024 * 1024,
                                    "msg_rate_Mpps": mib / job["size"]}})
        return out
    return run_sweep
