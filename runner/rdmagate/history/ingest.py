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


def _field(data: dict, path: Path, name: str, kind=str):
    value = data.get(name)
    if not isinstance(value, kind):
        raise UsageError(f"{path}: field {name}: "
                         + ("missing" if value is None else f"not a {kind.__name__}")
                         + (" (the run has not finished: rdmagate report RUN_DIR)"
                            if name in ("finished", "exit_code") and value is None else ""))
    return value


def read(run_dir: Path) -> Run:
    if (run_dir / "fleet.json").is_file():
        return _fleet(run_dir)
    if (run_dir / "run.json").is_file():
        run_json = run_dir / "run.json"
        data = rundir.read_json(run_json)
        _field(data, run_json, "finished")
        run = Run(_field(data, run_json, "run_id"), _field(data, run_json, "command"),
                  _field(data, run_json, "started"), str(data.get("stack", "")),
                  str(run_dir.resolve()), _field(data, run_json, "exit_code", int),
                  str(data.get("git_revision", "")))
        if (run_dir / "upgrade.json").is_file():
            upgrade = rundir.read_json(run_dir / "upgrade.json")
            run.verdict = upgrade.get("verdict")
            run.stack = f"{upgrade.get('from', {}).get('name')}->" \
                        f"{upgrade.get('to', {}).get('name')}"
            run.units = [_check_unit(d, rundir.read_json(d / "run.json"), HERE)
                         for d in sorted((run_dir / "runs").glob("*/"))
                         if (d / "run.json").is_file()]
        else:
            run.units = [_check_unit(run_dir, data, HERE)]
        return run
    raise UsageError(f"{run_dir}: not a run directory (no run.json or fleet.json)")


def _check_unit(run_dir: Path, data: dict, node: str) -> Unit:
    profile = Path(data["profile"]).stem if data.get("profile") else "none"
    unit = Unit(node, str(data.get("stack", "")), profile,
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
