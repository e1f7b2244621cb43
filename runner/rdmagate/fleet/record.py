"""fleet.json: what a fleet run found, per node and per pair; one typed,
versioned definition (outputs/records.py), written as the run goes and
loaded back (rdmagate report, history add) with every field checked."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from ..outputs import records, rundir
from ..errors import UsageError

SCHEMA = "rdmagate-fleet"
VERSION = 1
Status = Literal["tested", "not tested"]
STATUSES = get_args(Status)
TESTED, NOT_TESTED = STATUSES


@dataclass
class Node:
    name: records.Name
    status: Status = NOT_TESTED
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
    status: Status = NOT_TESTED
    reason: str = ""
    # per measurement: runs, value, the fleet's median, and the stored pair baseline's verdict
    verdicts: list[dict] = field(default_factory=list)
    machine: dict = field(default_factory=dict)      # perf/machine.py's facts of the pair


@dataclass
class Fleet:
    stack: str
    scheduler: str                     # slurm | local
    suites: list
    schema: str = SCHEMA
    version: int = VERSION
    job: dict = field(default_factory=dict)        # id, waited_s, state, reason
    nodes: list[Node] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    outliers: dict = field(default_factory=dict)   # nodes, links: off the fleet's median
    drain: list = field(default_factory=list)      # suggested (or run) scontrol lines
    started: str = ""
    finished: str | None = None
    exit_code: int | None = None

    def write(self, path: Path) -> None:
        records.write(self, path, sort_keys=True)


def load(path: Path) -> Fleet:
    """A fleet.json read back; a bad one is a UsageError naming the field."""
    data = rundir.read_json(path)
    if data.get("schema") != SCHEMA:
        raise UsageError(f"{path}: field schema: not {SCHEMA!r}: not a fleet.json")
    if data.get("version") != VERSION:
        raise UsageError(f"{path}: field version: {data.get('version')!r}, this rdmagate "
                         f"reads version {VERSION}")
    try:
        return records.from_json(Fleet, data)
    except records.Mismatch as err:
        raise UsageError(f"{path}: not a fleet.json: {err}") from None
