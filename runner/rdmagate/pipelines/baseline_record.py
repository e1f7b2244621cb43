"""The baseline pipeline: record a stack's ABI (symbols, abidw corpora of its
libraries and public header types) under baselines/abi/NAME/, or every
sample of its fast-path measurements at a target under
baselines/perf/<profile>/NAME.json and the runs of the fleet's perftest
pair under baselines/perftest/<profile>/NAME.json (perf), or the pair alone
(perftest)."""
import datetime
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import profiles, stacks, targets
from ..abi import baseline as abi_baseline
from ..errors import InfraError, UsageError
from ..kabi import baseline as kabi_baseline, facts as kabi_facts
from ..fleet import pairs
from ..perf import baseline as perf_baseline, machine, native, pair_baseline, perftest_run
from ..perf import suite as perf_suite
from ..progress import Progress

KINDS = ("abi", "perf", "perftest", "kabi")


@dataclass(frozen=True)
class BaselineRequest:
    stack: str
    kind: str = "abi"                 # abi, perf, perftest or kabi
    device: str | None = None         # perf: where to measure (default: as check chooses)
    use_lab: bool = False
    iters: int = perf_suite.ITERS
    boots: int | None = None          # boots the runs are spread over (None: the defaults below)
    guest_cpus: int | None = None     # perf in the lab: the guest's CPUs


# A check judges its boots against the baseline's, each boot counted with the
# lab's boot effect (perf/stats.py): a baseline of 2 lab boots leaves every
# interval too wide to decide; 6 (about 6 minutes quiet) narrows it to what
# a check's 4 boots can meet. The perftest pair takes 6 minutes a boot.
NATIVE_BOOTS, PAIR_BOOTS = 6, 2
# on the instruction clock a boot repeats the last one's figures: two show it
EXACT_BOOTS = 2


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
    if request.kind == "perftest":
        return _record_pair(request, progress)
    native_done = _record_perf(request, progress)
    if request.device:   # a pair needs two nodes: the fleet's, not this command's
        return native_done
    pair_done = _record_pair(request, progress)
    return Recorded(native_done.path, f"{native_done.what}; {pair_done.what} in {pair_done.path}")


def _record_perf(request: BaselineRequest, progress: Progress) -> Recorded:
    stack = stacks.resolve(request.stack)
    fetched = stacks.fetch(stack, say=progress.say)
    target = targets.choose(targets.Wanted(stack.name, request.device, request.use_lab, True,
                                           fetched.needs_rootfs, guest_cpus=request.guest_cpus))
    profile = profiles.name_for(target)
    with tempfile.TemporaryDirectory(prefix="rdmagate-perf-") as tmp:
        session = perf_suite.Session(stack, fetched, target, Path(tmp), iters=request.iters,
                                     say=progress.say)
        boots = request.boots or (EXACT_BOOTS if session.target.exact else NATIVE_BOOTS)
        # a fixed number of boots, each with the suite's runs: every measurement
        # gets runs from more than one boot, so the baseline holds the boot's share
        perf_suite.adaptive([session], list(native.MEASUREMENTS), lambda name: False,
                            max_runs=perf_suite.RUNS * boots,
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
    load = machine.loaded(session.machine)
    if load:
        progress.say(f"perf baseline: warning: recorded at host load {load:.2f} per core (over "
                     f"{machine.LOADED:.1f}): the figures will be slow; record it again on a "
                     "quiet machine")
    kept = [n for n, m in measured.items() if "runs" in m]
    return Recorded(path, f"perf baseline of {len(kept)} measurements, {session.boots} boots, "
                    f"on {machine.describe(session.machine)}")


def _record_pair(request: BaselineRequest, progress: Progress) -> Recorded:
    """The fleet's pair sweep (fleet/pairs.py) between two lab guests joined
    by the lab's link, over PAIR_BOOTS boots (or request.boots): every run of each measurement."""
    if request.device:
        raise UsageError(f"--suite perftest --device {request.device}: a pair baseline is "
                         "recorded between two lab guests (a pair of devices needs two "
                         "nodes); leave out --device")
    stack = stacks.resolve(request.stack)
    stacks.fetch(stack, say=progress.say)
    if not targets.lab.available():
        raise InfraError("a pair baseline's lab guests need qemu-system-x86_64: run ci/setup")
    target = targets.Lab(stack.name, "two lab guests joined by a link stand for a pair",
                         nodes=2)
    profile = profiles.name_for(target)
    found: list[dict] = []
    boots = request.boots or PAIR_BOOTS
    with tempfile.TemporaryDirectory(prefix="rdmagate-pair-") as tmp:
        for boot in range(boots):
            progress.say(f"pair baseline: boot {boot + 1} of {boots}")
            found += perftest_run.run_sweep(target, Path(tmp) / f"boot{boot + 1}",
                                            pairs.BASELINE_SWEEP, say=progress.say)
    failed = [f"{r['tool']}-{r['size']}: {r['error']}" for r in found if not r["ok"]]
    if failed:
        raise InfraError(f"perftest pair baseline of {stack.name}: {len(failed)} run(s) "
                         f"failed ({failed[0]}); nothing written")
    first = found[0]
    stored = pair_baseline.PairBaseline(
        profile, stack.name, stack.rdma_core, first["kernel"],
        first["perftest_package"] or "unknown", datetime.date.today().isoformat(),
        boots, "two lab guests joined by the lab's link", first["machine"],
        pair_baseline.measurements(found, pairs.METRICS))
    path = pair_baseline.write(stored, pair_baseline.path_for(profile, stack.name))
    runs = sorted({len(m.runs) for m in stored.measurements.values()})
    return Recorded(path, f"perftest pair baseline of {len(stored.measurements)} measurements, "
                    f"{'/'.join(map(str, runs))} runs each in {boots} boots, on "
                    f"{machine.describe(stored.machine)}")
