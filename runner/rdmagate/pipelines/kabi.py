"""The kabi pipeline: the kernel side of an upgrade A to B. The RDMA (or
every) export of A's kernel against B's, the kernel-level facts, and for each
given module the kernel's own load checks on B, predicted offline and, with
lab, proven by loading it into B's kernel in a guest."""
from dataclasses import dataclass
from pathlib import Path

from ..abi import causes
from ..errors import InfraError, UsageError
from ..kabi import btf, compare, facts, modules, predict, symvers
from ..kabi import record as kabi_record
from ..outputs import rundir
from ..progress import Progress


@dataclass(frozen=True)
class KabiRequest:
    old: str
    new: str
    modules: tuple[str, ...] = ()     # .ko files, directories, .deb packages
    area: str = "rdma"                # rdma or all
    lab: bool = False                 # prove each prediction in a guest of B's kernel


def kabi(request: KabiRequest, progress: Progress) -> compare.KabiReport:
    if request.area not in symvers.AREAS:
        raise UsageError(f"--area {request.area}: one of {', '.join(symvers.AREAS)}")
    if request.lab and not request.modules:
        raise UsageError("--lab proves the load of modules: give them with --modules PATH")
    full = bool(request.modules) or request.area == "all"
    old = facts.side(request.old, request.area, full=request.area == "all", say=progress.say)
    new = facts.side(request.new, request.area, full=full, say=progress.say)
    report = compare.compare(old, new, request.area)
    btf.name_types(report, say=progress.say)   # where both kernels have BTF
    if not request.modules:
        return report
    with modules.gathered(list(request.modules)) as found:
        report.modules = [predict.predict(m, new) for m in found]
        if request.lab:
            from ..kabi import lab   # boots QEMU: only when asked
            report.proofs = lab.prove(request.new, found, report.modules, say=progress.say)
    return report


def exit_code(report: compare.KabiReport) -> int:
    """1 when a given module would not load on B; 3 when the lab's load and
    the prediction disagree (an error of rdmagate, never hidden); else 0."""
    if any(not p.agrees for p in report.proofs):
        return InfraError.exit_code
    return 1 if any(not m.loads for m in report.modules) else 0


@dataclass
class KabiDone:
    run_dir: Path
    report: compare.KabiReport
    exit_code: int


def kabi_run(request: KabiRequest, results_dir: str | None, progress: Progress) -> KabiDone:
    """kabi() for the command: its run directory with run.json and kabi.json."""
    report = kabi(request, progress)
    code = exit_code(report)
    run_dir = rundir.create(results_dir, "kabi", f"{request.old}-{request.new}")
    record = rundir.RunRecord(run_dir, "kabi", stack=request.new, from_stack=request.old,
                              where="lab" if request.lab else "host", device="none")
    kabi_record.write(kabi_record.of(report), run_dir / "kabi.json")
    causes.write_sarif(causes.group(report.findings), run_dir / "findings.sarif")
    record.finish(code, verdict=report.verdict.verdict)
    return KabiDone(run_dir, report, code)
