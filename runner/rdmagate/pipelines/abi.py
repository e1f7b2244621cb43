"""The abi pipeline: every library and public header of two stacks diffed,
judged per audience, written as findings.json (and abidiff's own reports)
into a run directory."""
from dataclasses import dataclass
from pathlib import Path

from ..abi import findings, suppress
from ..abi.compare import compare_stacks
from .. import files
from ..errors import EXIT_OK, EXIT_UNEXPECTED, UsageError
from ..outputs import rundir
from ..progress import Progress

# who must not be broken for the diff to pass (the build audience is a risk)
GATING = ("applications", "providers")


@dataclass(frozen=True)
class AbiRequest:
    old: str
    new: str
    suppressions: tuple[Path, ...] = ()
    default_suppressions: bool = True
    consumers: list[str] | None = None   # None: skip consumer impact; []: this host's
    results_dir: str | None = None


@dataclass
class AbiDone:
    run_dir: Path
    report: object                       # abi.compare.AbiReport
    exit_code: int


def diff(request: AbiRequest, progress: Progress) -> AbiDone:
    for path in request.suppressions:
        if not path.is_file():
            raise UsageError(f"--suppressions {path}: no such file")
    suppressions = [suppress.DEFAULT] * request.default_suppressions + list(request.suppressions)
    report = compare_stacks(request.old, request.new, suppressions, say=progress.say,
                            consumers=request.consumers)
    old, new = report.old["stack"]["name"], report.new["stack"]["name"]
    run_dir = rundir.create(request.results_dir, "abi", f"{old}-{new}")
    record = rundir.RunRecord(run_dir, "abi", stack=new, from_stack=old, where="host",
                              device="none")
    findings.write(report.record(), run_dir / "findings.json")
    (run_dir / "abidiff").mkdir()
    for abidiff_run in report.abidiff_runs:
        files.write_atomic(run_dir / "abidiff" / f"{abidiff_run.library}.txt",
                           abidiff_run.report, "abidiff's report")
    broken = any(report.verdicts[a]["verdict"] == "BREAKS" for a in GATING)
    code = EXIT_UNEXPECTED if broken else EXIT_OK
    record.finish(code, verdicts=report.verdicts)
    return AbiDone(run_dir, report, code)
