"""The abi pipeline: every library and public header of two stacks diffed,
judged per audience, written as findings.json (and abidiff's own reports)
into a run directory."""
from dataclasses import dataclass, field
from pathlib import Path

from ..abi import causes, findings, loads, suppress
from ..abi.compare import AbiReport, compare_stacks
from .. import files
from ..abi.findings import Finding
from ..errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED, UsageError
from ..stacks import fetch, is_fetched, resolve
from ..outputs import rundir
from ..report import page
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
    load_providers: bool = True          # load each side's providers with the other's
    vendor_providers: Path | None = None  # --providers DIR: loaded with new's libibverbs


@dataclass
class AbiDone:
    run_dir: Path
    report: AbiReport
    exit_code: int
    loads: list = field(default_factory=list)        # abi.loads.LoadRun
    load_problems: list = field(default_factory=list)  # where loads and findings disagree


def diff(request: AbiRequest, progress: Progress) -> AbiDone:
    for path in request.suppressions:
        if not path.exists():
            raise UsageError(f"--suppressions {path}: no such file")
        files.check_regular(path, "a suppression file")   # a FIFO or a device: said so
    suppressions = [suppress.DEFAULT] * request.default_suppressions + list(request.suppressions)
    if request.vendor_providers is not None:
        if not request.load_providers:
            raise UsageError("--providers DIR loads those providers: it cannot go with --no-load")
        loads.vendor_files(request.vendor_providers)   # a bad DIR fails before the diff
    report = compare_stacks(request.old, request.new, suppressions, say=progress.say,
                            consumers=request.consumers)
    runs, problems = _loads(request, report, progress)
    old, new = report.old["stack"]["name"], report.new["stack"]["name"]
    run_dir = rundir.create(request.results_dir, "abi", f"{old}-{new}")
    record = rundir.RunRecord(run_dir, "abi", stack=new, from_stack=old, where="host",
                              device="none")
    findings.write(report.record(), run_dir / "findings.json")
    causes.write_sarif(causes.group(report.record().findings, runs), run_dir / "findings.sarif")
    (run_dir / "abidiff").mkdir()
    for abidiff_run in report.abidiff_runs:
        files.write_atomic(run_dir / "abidiff" / f"{abidiff_run.library}.txt",
                           abidiff_run.report, "abidiff's report")
    if runs:
        loads.write(loads.LoadsFile(old, new, runs), run_dir / "providers.json")
    page.write_abi(report.record(), runs if request.load_providers else None,
                   run_dir / "report.html")
    code = exit_code(report.verdicts, problems)
    record.finish(code, verdicts=report.verdicts)
    return AbiDone(run_dir, report, code, runs, problems)


def exit_code(verdicts: dict, problems: list[str]) -> int:
    """3 when a load disagrees with the static rules (rdmagate's own error),
    1 when applications or providers break, else 0."""
    broken = any(verdicts[a]["verdict"] == "BREAKS" for a in GATING)
    return EXIT_INFRA if problems else EXIT_UNEXPECTED if broken else EXIT_OK


def rebuild_report(run_dir: Path) -> int:
    """report.html of an abi run again, from its findings.json and providers.json."""
    found = findings.load(run_dir / "findings.json")
    runs = loads.load_file(run_dir / "providers.json").runs \
        if (run_dir / "providers.json").is_file() else None
    page.write_abi(found, runs, run_dir / "report.html")
    return exit_code({a: {"verdict": v.verdict} for a, v in found.verdicts.items()},
                     loads.problems(runs or [], found.findings))


def _loads(request: AbiRequest, report, progress: Progress) -> tuple[list, list[str]]:
    """The provider load matrix of the pair (and the vendor's providers), with
    the vendor's results added to the findings; the disagreements."""
    if not request.load_providers:
        return [], []
    old, new = resolve(request.old), resolve(request.new)
    if request.vendor_providers is None and not (is_fetched(old) and is_fetched(new)):
        baseline = old.name if not is_fetched(old) else new.name
        return loads.not_loaded(old.name, new.name, f"{baseline} was read from its baseline, "
                                f"not a tree: rdmagate stacks fetch {baseline}"), []
    progress.say("loading each stack's providers with the other's libibverbs")
    sides = [loads.Side(s.name, fetch(s, say=progress.say, with_rootfs=False), inv)
             for s, inv in ((old, report.old), (new, report.new))]
    runs = loads.matrix(sides[0], sides[1], request.vendor_providers)
    for run in runs:
        if run.direction == "vendor":
            report.findings = sorted(report.findings + [_vendor_finding(load, run)
                                                        for load in run.loads],
                                     key=findings.rank)
    return runs, loads.problems(runs, report.findings)


def _vendor_finding(load, run) -> Finding:
    if load.loaded and not load.named:
        return Finding(f"provider {load.provider}", "vendor provider not opened", "breaking",
                       "providers", f"{load.file} loads with {run.libibverbs_of}'s libibverbs, "
                       f"but that libibverbs opens {run.opens % load.provider}, not this file")
    if load.loaded:
        return Finding(f"provider {load.provider}", "vendor provider loads", "info", "providers",
                       f"{load.file} loads with {run.libibverbs_of}'s libibverbs")
    return Finding(f"provider {load.provider}", "vendor provider does not load", "breaking",
                   "providers", f"{load.file} with {run.libibverbs_of}'s libibverbs: "
                   f"{load.message}")
