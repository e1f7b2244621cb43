"""upgrade.json: what the gate's phases found, and its verdict.

The gate fills one Upgrade with typed sections as it goes and writes it
after every phase (a killed gate leaves a report of what ended); `rdmagate
report` reads it back through the same definition. A section a phase
never reached is absent (None here)."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from .. import outcomes
from ..errors import UsageError
from ..outputs import records
from ..perf import stats
from ..perf.machine import Where   # lab: soft-RoCE under emulation
from ..abi.findings import Finding
from ..outputs.audience import AudienceVerdict
from ..abi.loads import LoadRun
from ..kabi.record import Section as Kabi

FORMAT = 3   # 3: abi.loads; 2: perf points and baseline rows say their runs, where and why
WHAT = "an upgrade record (upgrade.json)"
PhaseStatus = Literal["done", "failed", "not run"]
PHASE_STATUSES = get_args(PhaseStatus)


@dataclass
class Side:
    name: str
    rdma_core: str | None = None
    kernel: str | None = None       # the Debian kernel release the lab boots
    perftest: str | None = None     # its version, when the stack ships it


@dataclass
class Phase:
    name: str                       # fetch, abi, api, verbs, perf
    status: PhaseStatus
    seconds: float
    note: str                       # what it found, or why it failed or did not run


@dataclass
class Api:
    compiles: bool                  # the suites compile against the new stack's headers
    error: str


@dataclass
class Abi:
    verdicts: dict[str, AudienceVerdict] = field(default_factory=dict)   # per audience
    findings: list[Finding] = field(default_factory=list)
    loads: list[LoadRun] | None = None   # providers really loaded (as providers.json); None: not loaded


@dataclass
class Consumer:
    path: str
    impact: str                     # ok, fails to load, fails to resolve, replaced by the upgrade, not checked
    detail: str = ""

    @classmethod
    def of(cls, impact) -> "Consumer":
        """The report's row of an abi.consumers.Impact: why it was not
        checked, what is missing, or the functions that changed signature."""
        return cls(impact.consumer, impact.verdict, impact.reason or ", ".join(
            impact.missing_libraries + impact.missing_versions + impact.missing_symbols[:5]
            + impact.changed_signatures[:5]))


@dataclass
class Verbs:
    columns: list[str]              # old, new, old build on new
    # the outcome names are the keys of outcomes.OUTCOMES: read at run time, not by mypy
    tests: dict[str, dict[str, Literal[outcomes.NAMES]]]   # type: ignore[valid-type]  # test -> column -> outcome
    messages: dict[str, dict[str, str]] = field(default_factory=dict)   # of each non-PASS
    cut_short: dict[str, str] = field(default_factory=dict)   # column -> why it stopped


@dataclass
class Interval:
    median: float
    low: float
    high: float


@dataclass
class Point:
    size: int                       # bytes
    verdict: Literal[stats.Verdict, "not compared"]
    ratio: float                    # B over A, in time
    ci: list[float]                 # [low, high] of the ratio; [] when there is none
    a: Interval                     # the runs: their centre and range
    b: Interval
    runs: list[int] | None = None   # [A's runs, B's runs]
    # on the instruction clock: each side's run spread (highest run median over
    # lowest, less 1), and why the clock was not exact when it was not
    spread: list[float] | None = None
    note: str | None = None
    # a slower point on the instruction clock: the functions whose share of the
    # virtual time grew, {"functions": [{function, before, after}]} (percent),
    # or {"why": "unattributed: ..."} (perf/attribute.py)
    attribution: dict[str, Any] | None = None

    def __post_init__(self):
        # the report plots log2(size) and reads ci as a pair
        if self.size <= 0:
            raise ValueError(f"field size: {self.size} is not a message size")
        if len(self.ci) != 2:
            raise ValueError("field ci: must be [low, high]")


@dataclass
class Gap:
    stack: str
    size: int
    why: str


@dataclass
class Series:
    name: str
    title: str
    kind: str                       # latency, bandwidth, rate (the last two: higher is better)
    unit: str
    points: list[Point]
    unmeasured: list[Gap] | None = None
    where: Where | None = None   # lab (soft-RoCE under emulation) or device
    clock: str | None = None        # wall, or instructions (perf/clock.py); None: wall
    unit_meaning: str | None = None # what a figure of this unit is (perf/clock.py UNITS)
    not_measured: str | None = None # why the series has no points at all


@dataclass
class AgainstBaseline:
    name: str
    size: int
    verdict: stats.Verdict
    ratio: float
    ci: list[float]                 # [] when there is none (not comparable)
    baseline: str                   # the baseline file, from the repository root
    runs: list[int] | None = None   # [baseline runs, runs now]
    note: str | None = None         # not comparable: why; or the calibration correction
    where: Where | None = None
    clock: str | None = None        # wall, or instructions; None: wall
    spread: list[float] | None = None   # on the instruction clock: [baseline, now]


@dataclass
class Reason:
    category: str                   # breaks, slower, risk, untested
    audience: str
    text: str
    rank: int = 0                   # 1 is the first to read
    where: Where | None = None   # a performance finding
    cause: str = ""                 # reasons of one cause are one line (abi/causes.py)


@dataclass
class Upgrade:
    run_id: str
    started: str
    host: str
    old: Side = field(metadata={"key": "from"})
    new: Side = field(metadata={"key": "to"})
    compat_column: str              # the column of the old build on the new libraries
    phases: list[Phase]
    commands: list[str] = field(default_factory=list)   # to reproduce each part
    versions: dict[str, str] = field(default_factory=dict)
    nodes: int = 1
    device_driver: str | None = None
    api: Api | None = None
    abi: Abi | None = None
    kabi: Kabi | None = None        # the kernel side (kabi.json holds all of it)
    consumers: list[Consumer] | None = None
    verbs: Verbs | None = None
    # column -> library -> that run's coverage.json entry
    coverage: dict[str, dict[str, dict[str, Any]]] | None = None
    perf: list[Series] | None = None
    baseline: list[AgainstBaseline] | None = None
    verdict: str | None = None      # GO, GO WITH RISKS, NO-GO
    reasons: list[Reason] | None = None
    format: int = FORMAT


def load(path: Path) -> Upgrade:
    found = records.load(Upgrade, path, WHAT)
    if not found.phases:   # the gate writes its phases first: none is not a gate's record
        raise UsageError(f"{path}: not {WHAT}: field phases: empty, so there is no verdict")
    return found


def write(upgrade: Upgrade, path: Path) -> None:
    records.write(upgrade, path)
