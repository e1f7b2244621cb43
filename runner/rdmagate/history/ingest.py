"""A finished run directory read into what the history keeps: per node,
stack and profile, each test's outcome and the perf measurements (the
ratio of each to its stored baseline, from perf.json). Check runs, upgrade
runs (the check runs under runs/) and fleet runs (each node's nodes/<node>/)."""
from dataclasses import dataclass, field
from pathlib import Path

from ..outputs import results, rundir
from ..outputs.result import Result
from ..errors import UsageError
from ..fleet import record as fleet_record
from ..perf import record as perf_record
from ..upgrade import record as upgrade_record

HERE = "local"    # the node of a check run: the machine it ran on


@dataclass
class Unit:
    """The results of one node (the one place of a check run)."""
    node: str
    stack: str
    profile: str
    results: list[Result]
    measures: list[tuple[str, float, str]] = field(default_factory=list)


@dataclass
class Run:
    key: str
    command: str
    started: str
    stack: str
    path: str
    exit_code: int | None
    git: str = ""
    verdict: str | None = None
    units: list[Unit] = field(default_factory=list)


def read(run_dir: Path) -> Run:
    """A finished run directory, every file read through its typed record."""
    _whole(run_dir)
    if (run_dir / "fleet.json").is_file():
        return _fleet(run_dir)
    if not (run_dir / "run.json").is_file():
        raise UsageError(f"{run_dir}: not a run directory (no run.json or fleet.json)")
    made = rundir.load(run_dir)
    if made.finished is None or made.exit_code is None:
        raise UsageError(f"{run_dir / 'run.json'}: field finished: missing (the run has not "
                         "finished: rdmagate report RUN_DIR)")
    run = Run(made.run_id, made.command, made.started, made.stack or "",
              str(run_dir.resolve()), made.exit_code, made.git_revision)
    if made.command == "upgrade":
        upgrade = upgrade_record.load(run_dir / "upgrade.json")
        run.verdict = upgrade.verdict
        run.stack = f"{upgrade.old.name}->{upgrade.new.name}"
        run.units = [_check_unit(d, rundir.load(d), HERE)
                     for d in sorted((run_dir / "runs").glob("*/"))
                     if (d / "run.json").is_file()]
    elif made.command in ("check", "profile"):
        run.units = [_check_unit(run_dir, made, HERE)]
    else:
        raise UsageError(f"{run_dir}: a run of rdmagate {made.command}: the history keeps "
                         "check, upgrade and fleet runs")
    return run


def _whole(run_dir: Path) -> None:
    """A run kept inside another (an upgrade's check runs, a fleet's nodes) is
    added with that run, never on its own: it would be counted twice."""
    for holder, record in (("runs", "upgrade.json"), ("nodes", "fleet.json")):
        whole = run_dir.resolve().parent.parent
        if run_dir.resolve().parent.name == holder and (whole / record).is_file():
            raise UsageError(f"{run_dir}: a part of the run {whole}: add that run "
                             "(rdmagate history add keeps its parts with it)")


def _check_unit(run_dir: Path, made: rundir.Run, node: str) -> Unit:
    profile = Path(made.profile).stem if made.profile else "none"
    unit = Unit(node, made.stack or "", profile,
                results.read(run_dir / "results.jsonl"))
    unit.measures = _measures(run_dir)
    return unit


def _measures(run_dir: Path) -> list[tuple[str, float, str]]:
    path = run_dir / "perf.json"
    if not path.is_file():
        return []
    return [(f"perf.{name}", float(v.ratio), "x baseline")
            for name, v in sorted(perf_record.load(path).verdicts.items())]


def _fleet(run_dir: Path) -> Run:
    fleet = fleet_record.load(run_dir / "fleet.json")
    if fleet.finished is None or fleet.exit_code is None:
        raise UsageError(f"{run_dir / 'fleet.json'}: field finished: the run has not finished")
    run = Run(run_dir.name, "fleet", fleet.started, fleet.stack, str(run_dir.resolve()),
              fleet.exit_code)
    for node in fleet.nodes:
        node_dir = run_dir / node.run_dir if node.run_dir else None
        finished = results.read(node_dir / "results.jsonl") if node_dir else []
        if node.status == fleet_record.NOT_TESTED:
            finished = finished + [Result("node.tested", "node", "tested", "ERROR",
                                          reason=node.reason)]
        unit = Unit(node.name, fleet.stack, node.profile or "none", finished)
        unit.measures = _measures(node_dir) if node_dir else []
        run.units.append(unit)
    return run
