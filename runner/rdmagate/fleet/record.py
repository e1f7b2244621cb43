"""fleet.json: what a fleet run found, per node and per pair; one typed,
versioned definition, written as the run goes and loaded back (rdmagate
report, history add) with every field checked."""
import json
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from types import UnionType
from pathlib import Path

from .. import files
from ..outputs import rundir
from ..errors import UsageError

SCHEMA = "rdmagate-fleet"
VERSION = 1
TESTED, NOT_TESTED = "tested", "not tested"


@dataclass
class Node:
    name: str
    status: str = NOT_TESTED          # tested | not tested
    reason: str = ""                  # why not tested, or why cut short
    run_dir: str = ""                 # relative to the fleet run: nodes/<name>
    where: str = ""                   # the target: slurm, host, lab
    device: str = "none"
    kind: str = "none"
    profile: str = ""
    firmware: dict = field(default_factory=dict)     # device -> firmware version
    ports: list = field(default_factory=list)        # {device, port, state, phys_state, rate}
    kernel: str = ""
    taint_before: str = ""
    taint_after: str = ""
    counts: dict = field(default_factory=dict)       # outcome -> number of tests
    deviations: list = field(default_factory=list)   # {test, outcome, reason}: not as expected
    perf: list = field(default_factory=list)         # perf verdicts of the node
    exit_code: int | None = None


@dataclass
class Pair:
    server: str
    client: str
    round: int
    status: str = NOT_TESTED
    reason: str = ""
    verdicts: list = field(default_factory=list)


@dataclass
class Fleet:
    stack: str
    scheduler: str                     # slurm | local
    suites: list
    schema: str = SCHEMA
    version: int = VERSION
    job: dict = field(default_factory=dict)        # id, waited_s, state, reason
    nodes: list = field(default_factory=list)      # Node
    pairs: list = field(default_factory=list)      # Pair
    outliers: dict = field(default_factory=dict)   # nodes, links: off the fleet's median
    drain: list = field(default_factory=list)      # suggested (or run) scontrol lines
    started: str = ""
    finished: str | None = None
    exit_code: int | None = None

    def write(self, path: Path) -> None:
        files.write_atomic(path, json.dumps(asdict(self), indent=2, sort_keys=True) + "\n",
                           "fleet.json")


def load(path: Path) -> Fleet:
    """A fleet.json read back; a bad one is a UsageError naming the field."""
    data = rundir.read_json(path)
    if data.get("schema") != SCHEMA:
        raise UsageError(f"{path}: field schema: not {SCHEMA!r}: not a fleet.json")
    if data.get("version") != VERSION:
        raise UsageError(f"{path}: field version: {data.get('version')!r}, this rdmagate "
                         f"reads version {VERSION}")
    fleet = _typed(Fleet, data, path, "")
    fleet.nodes = [_typed(Node, n, path, f"nodes[{i}].") for i, n in enumerate(fleet.nodes)]
    fleet.pairs = [_typed(Pair, p, path, f"pairs[{i}].") for i, p in enumerate(fleet.pairs)]
    return fleet


def _typed(cls, data, path: Path, where: str):
    """cls from a JSON object, each field present (or defaulted) and of its type."""
    if not isinstance(data, dict):
        raise UsageError(f"{path}: field {where.rstrip('.') or '(top)'}: not an object")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise UsageError(f"{path}: field {where}{f.name}: missing")
            continue
        hint = hints[f.name]
        accepted = tuple(typing.get_origin(a) or a
                         for a in (typing.get_args(hint) if isinstance(hint, UnionType)
                                   else (hint,)))
        value = data[f.name]
        if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
            raise UsageError(f"{path}: field {where}{f.name}: {type(value).__name__}, "
                             f"expected {' or '.join(a.__name__ for a in accepted)}")
        values[f.name] = value
    return cls(**values)
