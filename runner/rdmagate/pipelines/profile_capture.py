"""The profile capture pipeline: run the device suites with no expectations
at a target and write hw-profiles/<kind>-<kernel>.yaml from what the device
did, with its capabilities (ibv_devinfo -v, taken in the same run)."""
import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import devinfo, outcomes, profiles, stacks, suites, targets
from ..errors import InfraError
from ..perf import baseline as perf_baseline, suite as perf_suite
from ..progress import Progress
from ..targets import scripts
from .check import SuiteRun, run_suites

# A FAIL is captured as a known defect; what else went wrong says nothing of the device.
UNCAPTURABLE = (outcomes.UNEXPECTED | outcomes.INFRA) - {"FAIL"}


@dataclass(frozen=True)
class CaptureRequest:
    stack: str = "host"
    suites: tuple[str, ...] = ()      # empty: every device suite
    device: str | None = None
    use_lab: bool = False
    out: Path | None = None           # default: hw-profiles/<kind>-<kernel>.yaml
    kernel: str | None = None         # another Debian kernel (a release, or a stack's) in the lab
    results_dir: str | None = None


@dataclass
class Captured:
    path: Path
    run_dir: Path
    tests: int
    expectations: int
    known_defects: list[str]


def capture(request: CaptureRequest, progress: Progress) -> Captured:
    chosen = [s for s in suites.select(list(request.suites) or None) if s.in_harness]
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(request.device, request.use_lab, True, fetched.needs_rootfs,
                            stack.name, kernel=stacks.kernel_release(request.kernel))
    kind = target.kind
    release = target.kernel_release()
    name = f"{kind}-{profiles.kernel_series(release)}"
    out = request.out or profiles.PROFILES_DIR / f"{name}.yaml"

    def devinfo_first(run_dir: Path) -> list[str]:
        shutil.copy2(scripts.CAPTURE_DEVINFO, run_dir / scripts.CAPTURE_DEVINFO.name)
        return ["sh", str(run_dir / scripts.CAPTURE_DEVINFO.name), str(run_dir / "devinfo.txt"),
                target.device, "--"]

    done = run_suites(SuiteRun(stack, fetched, chosen, target, None,
                               results_dir=request.results_dir, command="profile",
                               label=name, argv_prefix=devinfo_first), progress)
    run_dir, finished = done.run_dir, done.finished
    broken = [r for r in finished if r.outcome in UNCAPTURABLE]
    if broken or not finished:
        listed = ", ".join(f"{r.test} ({r.outcome})" for r in broken[:5])
        raise InfraError(f"cannot capture a profile from {run_dir}: "
                         f"{listed or 'no test finished'}; {out} left as it was")
    try:
        capabilities = devinfo.parse((run_dir / "devinfo.txt").read_text())
    except (OSError, ValueError) as err:
        raise InfraError(f"{run_dir / 'devinfo.txt'}: no device capabilities ({err})") from None
    profile = _profile(kind, release, stack, target, capabilities, finished,
                       profiles.notes_of(out))
    profile["perf"] = _perf_section(name, out)
    profiles.write(out, profile)
    return Captured(out, run_dir, len(finished), len(profile["expect"]),
                    [r.test for r in finished if r.outcome == "FAIL"])


def _perf_section(name: str, path: Path) -> dict:
    """The perf baselines recorded for this profile, and its verdict threshold
    (kept when the existing profile sets one: it comes from bench/perf_verdict.py)."""
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    threshold = ((existing or {}).get("perf") or {}).get("threshold", perf_suite.DEFAULT_THRESHOLD)
    found = sorted(perf_baseline.BASELINES.glob(f"{name}/*.json"))
    return {"threshold": threshold,
            "baselines": [str(p.relative_to(perf_baseline.BASELINES.parents[1])) for p in found]}


def _profile(kind, release, stack, target, capabilities, finished, notes) -> dict:
    expect = {}
    for result in finished:
        spec = profiles.expectation_of(result)
        if spec is None:
            continue
        if result.test in notes:
            spec["note"] = notes[result.test]
        expect[result.test] = spec
    return {
        "device": kind,
        "description": f"{kind} on Linux {release}, captured with stack {stack.name}",
        "verified": True,
        "captured": {
            "date": datetime.date.today().isoformat(),
            "kernel": release,
            "stack": stack.name,
            "rdma_core": stack.rdma_core,
            "where": target.name,
            "command": " ".join(["rdmagate", "profile", "capture", "--stack", stack.name,
                                 *target.flags()]),
        },
        "capabilities": capabilities,
        "expect": dict(sorted(expect.items())),
    }
