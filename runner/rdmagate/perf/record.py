"""perf.json: the perf suite's verdicts, one per measurement compared with
the stored baseline (the samples are in the run's native/ directory), and
where they were measured.

Format 2 adds to each verdict its runs per side, a note (why not comparable,
or the calibration correction) and where (lab or device), and to the file
the machine, the boots and the seconds spent measuring. A format-1 file
reads with those empty."""
from dataclasses import dataclass, field
from pathlib import Path

from ..outputs import records

FORMAT = 2


@dataclass(frozen=True)
class Verdict:
    ratio: float          # the run over the baseline, in time (>1: slower)
    ci: list[float]       # [low, high] of the ratio, 99%; [] when there is no interval
    verdict: str          # faster, same, slower, inconclusive
    n: list[int]          # [baseline samples, run samples]
    runs: list[int] = field(default_factory=list)   # [baseline runs, run runs]
    note: str = ""        # not comparable: why; or the calibration correction applied
    where: str = ""       # lab (soft-RoCE under emulation) or device
    spread: list[float] | None = None   # [baseline, run]: run medians' range (instruction clock)
    clock: str = "wall"   # perf/clock.py: wall, or instructions (figures in virtual ns)


@dataclass(frozen=True)
class PerfFile:
    baseline: str | None  # the baseline file compared with; None: there is none
    threshold: float      # the slowdown (a fraction) that counts
    verdicts: dict[str, Verdict]
    machine: dict = field(default_factory=dict)   # perf/machine.py's facts of this run
    boots: int = 0        # boots (or target runs) the measurements took
    seconds: float = 0.0  # spent measuring
    # against the runs of this machine's last checks (perf/history.py), and how many
    history: dict[str, Verdict] = field(default_factory=dict)
    history_checks: int = 0
    budget: str = ""      # how the seconds went: each round, estimated and taken (perf/budget.py)
    clock: str = "wall"   # perf/clock.py: the clock of this run's figures
    unit: str = ""        # what a figure is, in words (perf/clock.py UNITS)
    format: int = FORMAT


def write(found: PerfFile, path: Path) -> None:
    records.write(found, path)


def load(path: Path) -> PerfFile:
    return records.load(PerfFile, path, "a perf suite record (perf.json)")
