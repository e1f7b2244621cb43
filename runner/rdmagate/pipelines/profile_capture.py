"""The profile capture pipeline: run the device suites with no expectations
at a target and write hw-profiles/<kind>-<kernel>.yaml from what the device
did, with its capabilities (ibv_devinfo -v, taken in the same run).

A FAIL is not captured as expected by itself: the capture stops with the
failures for a person to review, who records one as a known defect by
writing its reason and the failure (message id) it is in the profile; the
next capture keeps that entry while the test fails in exactly that way."""
import datetime
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import devinfo, outcomes, profiles, stacks, suites, targets
from ..errors import InfraError
from ..perf import baseline as perf_baseline, suite as perf_suite
from ..progress import Progress
from ..harness.run import SuiteRun, run_suites

# A FAIL is reviewed (known defects); what else went wrong says nothing of the device.
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
    # FAILs no known defect of the profile names: nothing was written
    to_review: list = field(default_factory=list)


def capture(request: CaptureRequest, progress: Progress) -> Captured:
    chosen = [s for s in suites.select(list(request.suites) or None) if s.in_harness]
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(targets.Wanted(
        stack.name, request.device, request.use_lab, any(s.needs_device for s in chosen),
        fetched.needs_rootfs, kernel=stacks.kernel_release(request.kernel)))
    kind = target.kind
    release = target.kernel_release()
    name = profiles.name_for(target)
    out = request.out or profiles.PROFILES_DIR / f"{name}.yaml"
    known = profiles.known_defects(out)   # before the run: a bad entry costs no run

    not_run = {test: dict(spec) for test, spec in known.items() if spec.get("run") is False}
    done = run_suites(SuiteRun(stack, fetched, chosen, target, profiles.CAPTURE,
                               results_dir=request.results_dir, command="profile",
                               label=name, not_run=not_run), progress)
    run_dir, finished = done.run_dir, done.finished
    broken = [r for r in finished if r.outcome in UNCAPTURABLE]
    if broken or not finished:
        listed = ", ".join(f"{r.test} ({r.outcome})" for r in broken[:5])
        raise InfraError(f"cannot capture a profile from {run_dir}: "
                         f"{listed or 'no test finished'}; {out} left as it was")
    failed = [r for r in finished if r.outcome == "FAIL"]
    to_review = [r for r in failed if (known.get(r.test) or {}).get("failure") != r.failure]
    if to_review:
        return Captured(out, run_dir, len(finished), 0, [], to_review)
    try:
        # no device, no capabilities (a profile of the device-free suites)
        capabilities = {} if kind == "none" else \
            devinfo.parse((run_dir / "devinfo.txt").read_text())
    except (OSError, ValueError) as err:
        raise InfraError(f"{run_dir / 'devinfo.txt'}: no device capabilities ({err})") from None
    profile = _profile(kind, release, stack, target, capabilities, finished,
                       profiles.notes_of(out), known)
    profile["perf"] = _perf_section(name, out)
    profiles.write(out, profile)
    return Captured(out, run_dir, len(finished), len(profile["expect"]),
                    [r.test for r in failed])


def _perf_section(name: str, path: Path) -> dict:
    """The perf baselines recorded for this profile, and its verdict threshold
    (kept when the existing profile sets one: it comes from bench/perf_verdict.py)."""
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    threshold = ((existing or {}).get("perf") or {}).get("threshold", perf_suite.DEFAULT_THRESHOLD)
    found = sorted(perf_baseline.BASELINES.glob(f"{name}/*.json"))
    return {"threshold": threshold,
            "baselines": [str(p.relative_to(perf_baseline.BASELINES.parents[1])) for p in found]}


def _profile(kind, release, stack, target, capabilities, finished, notes, known) -> dict:
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
        "expect": profiles.captured(finished, notes, known),
    }
