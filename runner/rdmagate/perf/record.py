"""perf.json: the perf suite's verdicts, one per measurement compared with
the stored baseline (the samples are in the run's native/ directory)."""
from dataclasses import dataclass
from pathlib import Path

from ..outputs import records

FORMAT = 1


@dataclass(frozen=True)
class Verdict:
    ratio: float          # the run over the baseline, in time (>1: slower)
    ci: list[float]       # [low, high] of the ratio, 99%
    verdict: str          # faster, same, slower, inconclusive
    n: list[int]          # [baseline samples, run samples]


@dataclass(frozen=True)
class PerfFile:
    baseline: str | None  # the baseline file compared with; None: there is none
    threshold: float      # the slowdown (a fraction) that counts
    verdicts: dict[str, Verdict]
    format: int = FORMAT


def write(found: PerfFile, path: Path) -> None:
    records.write(found, path)


def load(path: Path) -> PerfFile:
    return records.load(PerfFile, path, "a perf suite record (perf.json)")
