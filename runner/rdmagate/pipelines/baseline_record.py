"""The baseline pipeline: record a stack's ABI (symbols, abidw corpora of its
libraries and public header types) under baselines/abi/NAME/, or every
sample of its fast-path measurements at a target under
baselines/perf/<profile>/NAME.json."""
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import profiles, stacks, targets
from ..abi import baseline as abi_baseline
from ..errors import InfraError, UsageError
from ..kabi import baseline as kabi_baseline, facts as kabi_facts
from ..perf import baseline as perf_baseline, machine, native, suite as perf_suite
from ..progress import Progress

KINDS = ("abi", "perf", "kabi")


@dataclass(frozen=True)
class BaselineRequest:
    stack: str
    kind: str = "abi"                 # abi, perf or kabi
    device: str | None = None         # perf: where to measure (default: as check chooses)
    use_lab: bool = False
    iters: int = perf_suite.ITERS
    boots: int = 2                    # perf: boots (target runs) the runs are spread over
    guest_cpus: int | None = None     # perf in the lab: the guest's CPUs


@dataclass
class Recorded:
    path: Path
    what: str                         # a few words on what was recorded


def record(request: BaselineRequest, progress: Progress) -> Recorded:
    if request.kind not in KINDS:
        raise UsageError(f"--suite {request.kind}: baselines exist for {', '.join(KINDS)}")
    if request.kind == "abi":
        return Recorded(abi_baseline.record(request.stack, say=progress.say), "ABI baseline")
    if request.kind == "kabi":
        side = kabi_facts.from_headers(stacks.resolve(request.stack), say=progress.say)
        return Recorded(kabi_baseline.record(side), "kABI baseline (RDMA exports, kernel facts)")
    return _record_perf(request, progress)


def _record_perf(request: BaselineRequest, progress: Progress) -> Recorded:
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(request.device, request.use_lab, True, fetched.needs_rootfs,
                            stack.name, guest_cpus=request.guest_cpus)
    profile = profiles.name_for(target)
    with tempfile.TemporaryDirectory(prefix="rdmagate-perf-") as tmp:
        session = perf_suite.Session(stack, fetched, target, Path(tmp), iters=request.iters,
                                     say=progress.say)
        # a fixed number of boots, each with the suite's runs: every measurement
        # gets runs from more than one boot, so the baseline holds the boot's share
        perf_suite.adaptive([session], list(native.MEASUREMENTS), lambda name: False,
                            max_runs=perf_suite.RUNS * request.boots,
                            say=progress.say)
    measured = session.results
    failed = {n: m["error"] for n, m in measured.items() if "error" in m}
    if failed:
        raise InfraError(f"perf baseline of {stack.name}: {', '.join(failed)} failed "
                         f"({next(iter(failed.values()))}); nothing written")
    if len(session.calibration) < 2:
        raise InfraError(f"perf baseline of {stack.name}: the calibration workload gave "
                         f"{len(session.calibration)} runs (2 needed); nothing written")
    path = perf_baseline.write(perf_baseline.path_for(profile, stack.name), profile, session,
                               measured)
    kept = [n for n, m in measured.items() if "runs" in m]
    return Recorded(path, f"perf baseline of {len(kept)} measurements, {session.boots} boots, "
                    f"on {machine.describe(session.machine)}")
