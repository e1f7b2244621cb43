"""Is B slower than A, on the instruction clock (perf/clock.py)? There a
figure is the guest's instruction count, the same in every run and boot
(debian-13's 2-byte RDMA WRITE: 27096 virtual ns in every run of 3 boots),
so no interval is estimated: the ratio of the two sides is judged against
the threshold directly, and each side's run-to-run spread is measured and
shown, as the evidence that the clock was exact.

- A side's figure is the median of its runs' medians; its spread is the
  highest run median over the lowest, less 1.
- When both spreads are within SPREAD_FLOOR, the ratio decides: slower when
  it is at least sqrt(1+t), half the threshold t on the log scale (as in
  perf/stats.py: a slowdown of the threshold itself is then always caught),
  faster when at most 1/sqrt(1+t), same otherwise.
- When a spread passes the floor the clock was not exact (something the
  instruction counter does not cover, such as a timer tick in the loop):
  that is said with the figures, and the verdict is taken on the whole
  range of ratios the runs allow (lowest B over highest A to highest B
  over lowest A); inconclusive when that range straddles a boundary."""
import math
from dataclasses import dataclass
from statistics import median

from ..errors import UsageError
from . import clock, stats

SPREAD_FLOOR = 0.005     # 0.5%: the runs of one side differed by at most 0.14% here


@dataclass(frozen=True)
class Figure:
    """One side: the median of its runs' medians, their range, and counts."""
    value: float
    low: float
    high: float
    runs: int
    samples: int

    @property
    def spread(self) -> float:
        return self.high / self.low - 1


def figure(runs, what: str) -> Figure:
    """runs: each a list of samples, or its median alone (a kept history)."""
    medians, samples = [], 0
    for k, run in enumerate(runs):
        if isinstance(run, (int, float)):
            if not math.isfinite(run) or run <= 0:
                raise UsageError(f"{what}, run {k}: must be a positive finite number")
            medians.append(float(run))
            samples += 1
            continue
        medians.append(stats.run_median(run, f"{what}, run {k}"))
        samples += len(run)
    if not medians:
        raise UsageError(f"{what}: no runs")
    return Figure(median(medians), min(medians), max(medians), len(medians), samples)


def _verdict(low: float, high: float, threshold: float) -> stats.Verdict:
    slow = math.sqrt(1 + threshold)
    if low >= slow:
        return "slower"
    if high <= 1 / slow:
        return "faster"
    if 1 / slow < low and high < slow:
        return "same"
    return "inconclusive"


def compare(a_runs, b_runs, threshold: float, higher_is_better: bool = False,
            unit: str = "virtual ns") -> stats.Comparison:
    """The verdict on B against A, each a list of runs of samples on the
    instruction clock. The interval of the Comparison is the range of ratios
    the runs allow; its spread is each side's [A, B]."""
    if threshold <= 0:
        raise UsageError(f"threshold {threshold}: must be positive (e.g. 0.05 for 5%)")
    a, b = figure(a_runs, "side A"), figure(b_runs, "side B")
    if higher_is_better:   # in time terms: twice the bandwidth is half the time
        ratio, low, high = a.value / b.value, a.low / b.high, a.high / b.low
    else:
        ratio, low, high = b.value / a.value, b.low / a.high, b.high / a.low
    exact = max(a.spread, b.spread) <= SPREAD_FLOOR
    verdict = _verdict(ratio, ratio, threshold) if exact else _verdict(low, high, threshold)
    note = "" if exact else (
        f"the instruction clock was not deterministic: run medians of A spread "
        f"{a.spread:.2%} ({a.low:.0f}-{a.high:.0f} {unit}, {a.runs} runs), of B "
        f"{b.spread:.2%} ({b.low:.0f}-{b.high:.0f} {unit}, {b.runs} runs), above the "
        f"{SPREAD_FLOOR:.1%} floor; judged on the whole range of ratios {low:.3f}-{high:.3f}")
    return stats.Comparison(ratio, low, high, verdict, a.samples, b.samples, a.runs, b.runs,
                            note, spread=[round(a.spread, 6), round(b.spread, 6)],
                            clock=clock.INSTRUCTIONS)
