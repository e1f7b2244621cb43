"""One node of a fleet run: the preflight (kernel, taint, devices, ports),
the suites into nodes/<node>/ as check runs them, the taint again; a node
that goes (its device, its slurmd, its guest) is "not tested" with the
reason, and what it finished is kept."""
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import outcomes, profiles
from ..outputs import records, results
from ..perf import record as perf_record
from ..errors import InfraError, RunCutShort
from ..harness.run import SuiteRun, run_suites
from ..progress import Progress
from ..stacks import FetchedStack, Stack
from ..targets import scripts
from .record import NOT_TESTED, TESTED, Node


def read_preflight(lines: list[str], node: Node, after: bool = False) -> None:
    """Fill node from preflight.sh's lines (taint_after only, after)."""
    for line in lines:
        words = line.split("\t")
        if words[0] != "preflight" or len(words) < 3:
            continue
        what, rest = words[1], words[2:]
        if what == "taint":
            setattr(node, "taint_after" if after else "taint_before", rest[0])
        elif after:
            continue
        elif what == "kernel":
            node.kernel = rest[0]
        elif what == "device" and len(rest) == 2:
            node.firmware[rest[0]] = rest[1]
        elif what == "port" and len(rest) == 5:
            node.ports.append(dict(zip(("device", "port", "state", "phys_state", "rate"),
                                       rest)))


def preflight(target, fleet_dir: Path, node: Node, after: bool = False) -> None:
    script = fleet_dir / scripts.PREFLIGHT.name
    if not script.exists():
        shutil.copy2(scripts.PREFLIGHT, script)
    lines: list[str] = []
    ran = target.run(["sh", str(script)], shares=[(fleet_dir, False)], on_line=lines.append)
    gone = target.gone()
    if gone or ran.exit_status != 0:
        raise InfraError(gone or f"the preflight on {node.name} exited {ran.exit_status}: "
                         + " | ".join(lines[-3:]))
    read_preflight(lines, node, after)


@dataclass(frozen=True)
class NodeSuites:
    """What every node of a fleet runs: the stack's suites, built once."""
    stack: Stack
    fetched: FetchedStack
    chosen: list
    harness: Path | None              # the stack's own build (None: no harness suite)
    fleet_dir: Path
    timeout_s: int
    filters: tuple[str, ...] = ()


def run_node(node: Node, target, work: NodeSuites) -> Node:
    """node, filled in; never raises an InfraError (the node is then not tested)."""
    stack, chosen, fleet_dir = work.stack, work.chosen, work.fleet_dir
    node.where = target.name
    try:
        preflight(target, fleet_dir, node)
        at = target   # where the suites run: the node, or a lab guest on it
        if target.device == "none" and any(s.needs_device for s in chosen):
            if node.firmware:
                target.device = sorted(node.firmware)[0]
            else:
                at = target.lab_instead(stack.name)
                if at is None:
                    raise InfraError(f"node {node.name} has no RDMA device")
        node.device, node.kind, node.where = at.device, at.kind, at.name
        if at is not target:   # the suites' kernel is the guest's, not the node's
            node.kernel = at.kernel_release()
        profile = profiles.load_for_device(profiles.name_for(at))
        node.profile = Path(profile.data["path"]).stem
        run_dir = fleet_dir / "nodes" / node.name
        run_dir.mkdir(parents=True)
        node.run_dir = str(run_dir.relative_to(fleet_dir))
        run = SuiteRun(stack, work.fetched, chosen, at, profile, label=node.name,
                       harness=work.harness, run_dir=run_dir, timeout_s=work.timeout_s,
                       filters=work.filters)
        with (run_dir / "progress.log").open("w", encoding="utf-8") as log:
            done = run_suites(run, Progress(log, enabled=False))
        _finished(node, done.finished)
        node.perf = _perf(run_dir)
        node.exit_code = done.exit_code
        node.status = TESTED
        preflight(target, fleet_dir, node, after=True)
    except RunCutShort as err:
        _finished(node, err.finished)
        node.status, node.reason, node.exit_code = NOT_TESTED, str(err), err.exit_code
    except InfraError as err:
        node.status, node.reason, node.exit_code = NOT_TESTED, str(err), err.exit_code
    return node


def _perf(run_dir: Path) -> list[dict]:
    """The perf suite's verdicts against the profile's baseline (perf.json)."""
    path = run_dir / "perf.json"
    if not path.is_file():
        return []
    return [dict(records.to_json(v), measurement=name)
            for name, v in sorted(perf_record.load(path).verdicts.items())]


def _finished(node: Node, finished: list) -> None:
    node.counts = results.counts(finished)
    node.deviations = [{"test": r.test, "outcome": r.outcome, "reason": r.why}
                       for r in finished if r.outcome not in outcomes.AS_EXPECTED]
