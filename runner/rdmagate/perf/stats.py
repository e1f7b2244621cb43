"""Is B slower than A? A verdict that says "inconclusive" when the data
cannot tell, rather than a false alarm.

The run is the unit of replication. Samples within one run share its
process, its boot, its CPU placement and its machine, so they are not
independent draws: thousands of them make a narrow interval around that
run's own conditions, not around the stack's cost. Each side of a
comparison is therefore several runs (fresh processes; in the lab, more than
one boot where the budget allows), and the verdict is a test on per-run
statistics:

- each run is summarised by the log of its median (robust to TCG's tail; a
  median of hundreds of samples is close to normal);
- a side's estimate is the mean of its runs' log-medians, its variance the
  sample variance between them (which holds the within-run noise of the
  median too, so nothing is counted twice);
- the ratio B/A is exp(mean_b - mean_a), with Welch's t interval
  (Welch-Satterthwaite degrees of freedom): with few runs the t quantile is
  large and so the interval is wide, as it should be;
- an adjustment (a calibration ratio between two machines, perf/calibrate.py)
  shifts the difference and adds its own variance and degrees of freedom;
- in the lab the boot is a unit too: runs of one boot share its placement
  of the guest's CPUs on the host's and the host's load while it ran, and
  boots of one stack differ by more than their runs say (20 sessions of 16
  runs here: the sessions' log-medians spread by sd 0.08 to 0.13 where the
  runs' spread predicted 0.028). A side's runs cannot show that when they
  come from one or two boots, so a known boot effect (BootEffect: its sd,
  measured by bench/perf_verdict.py, and the df of that estimate) adds
  sd^2/boots of each side to the variance.

Assumptions: runs are exchangeable within a side (interleaved passes, so a
drift over the sitting spreads over all measurements), per-run log-medians
are roughly normal, and effects shared by all runs of a side (one boot, one
day) are either replicated (several boots) or corrected by the calibration
measurement of the same boot; what neither covers is the threshold's job.

The verdict compares the ratio and its interval with a practical threshold
t (per hardware profile):

- same when the whole interval lies within [1/(1+t), 1+t]: any change is
  smaller than the threshold (this wins over the two below);
- slower when the interval lies above 1 (B is slower at this confidence)
  and the ratio is at least sqrt(1+t), half the threshold on the log scale
  (the change is large enough to matter); faster likewise below 1 and at
  most 1/sqrt(1+t);
- inconclusive otherwise.

Why not "slower when the whole interval lies above 1+t": that rule calls a
slowdown of exactly the threshold slower at most half the time (its ratio
falls below 1+t as often as above), so a CI run cannot be promised to
catch the slowdown its threshold names. With this rule a slowdown of the
threshold is called slower once the interval is narrow enough to exclude 1
(the runs added until decisive do that), and a true ratio of 1 is called
slower only when its interval misses 1, at most (1 - confidence)/2 of the
time a look; the half-threshold floor keeps a tiny but clear change (2%
with a narrow interval that still reaches past 1+t) from failing a gate."""
import dataclasses
import math
from dataclasses import dataclass
from statistics import NormalDist, fmean, median as statistics_median, variance
from typing import Literal, get_args

from ..errors import UsageError

MIN_SAMPLES = 5
MIN_RUNS = 2          # a side needs two runs to show how much runs differ
Verdict = Literal["faster", "same", "slower", "inconclusive"]
VERDICTS = get_args(Verdict)


@dataclass(frozen=True)
class Side:
    """One side's runs, summarised: mean and variance of the runs' log-medians."""
    mean: float
    var: float
    runs: int
    samples: int


@dataclass(frozen=True)
class Adjustment:
    """A known shift of log(B/A) (a calibration ratio), its variance and df."""
    shift: float
    var: float
    df: float


@dataclass(frozen=True)
class BootEffect:
    """How much boots of one stack differ beyond their runs: the sd of a
    boot's log-median around the stack's, and the df of that estimate."""
    sd: float
    df: float


@dataclass(frozen=True)
class Comparison:
    ratio: float          # B over A, in "time" terms (>1: B slower); 0: not compared
    low: float
    high: float
    verdict: Verdict      # faster, same, slower, inconclusive
    n_a: int              # samples
    n_b: int
    runs_a: int = 0
    runs_b: int = 0
    note: str = ""        # why it is inconclusive, when the data are not the reason
    # each side's run-to-run spread (highest run median over lowest, less 1),
    # kept for figures on the instruction clock (perf/exact.py)
    spread: list[float] | None = None
    clock: str = "wall"   # perf/clock.py: the clock both sides were measured on

    def with_note(self, text: str, verdict: Verdict | None = None, first: bool = False):
        """This comparison with `text` joined to its note (before it when
        `first`), and its verdict replaced when one is given."""
        parts = (text, self.note) if first else (self.note, text)
        return dataclasses.replace(self, verdict=verdict or self.verdict,
                                   note="; ".join(filter(None, parts)))

    @property
    def ci(self) -> list[float]:
        """[low, high] of the ratio, or [] when it is unbounded (no interval)."""
        return [self.low, self.high] if math.isfinite(self.high) else []

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "ci": self.ci,
                "verdict": self.verdict,
                "n": [self.n_a, self.n_b], "runs": [self.runs_a, self.runs_b],
                "note": self.note, "spread": self.spread, "clock": self.clock}


def _checked(samples, what: str) -> list[float]:
    values = [float(s) for s in samples]
    if len(values) < MIN_SAMPLES:
        raise UsageError(f"{what}: {len(values)} samples, at least {MIN_SAMPLES} are needed")
    if any(not math.isfinite(v) or v <= 0 for v in values):
        raise UsageError(f"{what}: samples must be positive finite numbers")
    return values


def run_median(samples, what: str = "a run") -> float:
    """A run's median, its samples checked."""
    return statistics_median(_checked(samples, what))


def run_statistic(samples, what: str = "a run") -> float:
    """The log of a run's median: the one number a run contributes."""
    return math.log(run_median(samples, what))


def side(runs, what: str) -> Side:
    """Runs (each a list of samples, or a single positive number: a run that
    reports one summary, as perftest does) summarised."""
    logs, count = [], 0
    for k, run in enumerate(runs):
        if isinstance(run, (int, float)):
            if not math.isfinite(run) or run <= 0:
                raise UsageError(f"{what}, run {k}: must be a positive finite number")
            logs.append(math.log(run))
            count += 1
        else:
            logs.append(run_statistic(run, f"{what}, run {k}"))
            count += len(run)
    if not logs:
        raise UsageError(f"{what}: no runs")
    return Side(fmean(logs), variance(logs) if len(logs) > 1 else math.nan, len(logs), count)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile (p > 0.5) by bisection on its CDF, the CDF from
    the regularized incomplete beta function (continued fraction)."""
    if df > 1e6:
        return NormalDist().inv_cdf(p)
    low, high = 0.0, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        if _t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-10 * max(1.0, mid):
            break
    return high


def _t_cdf(t: float, df: float) -> float:
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t >= 0 else tail


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):      # the fraction converges on this side
        return 1 - _betainc(b, a, 1 - x)
    # Lentz's method for the continued fraction (Numerical Recipes 6.4)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-14:
            break
    return front * h / a


def verdict_of(ratio: float, low: float, high: float, threshold: float) -> Verdict:
    """The rule of the module's docstring, on a ratio in time terms."""
    slow, fast = 1 + threshold, 1 / (1 + threshold)
    if fast <= low and high <= slow:
        return "same"
    if low > 1 and ratio >= math.sqrt(slow):
        return "slower"
    if high < 1 and ratio <= math.sqrt(fast):
        return "faster"
    return "inconclusive"


def compare(a_runs, b_runs, threshold: float, confidence: float = 0.99,
            higher_is_better: bool = False, adjust: Adjustment | None = None,
            boot: BootEffect | None = None, boots: tuple[int, int] = (0, 0)) -> Comparison:
    """Verdict on B against A, each a list of runs. Latency: higher is worse;
    bandwidth and message rate: pass higher_is_better, and the ratio is
    turned into time terms. adjust: a shift of log(B/A) to remove (a
    calibration ratio between machines), with its uncertainty. boot: the
    boot effect, with boots the number of boots each side's runs came from
    (0: that side's runs already span many boots, as a history of checks)."""
    if threshold <= 0:
        raise UsageError(f"threshold {threshold}: must be positive (e.g. 0.05 for 5%)")
    a, b = side(a_runs, "side A"), side(b_runs, "side B")
    # in time terms: twice the bandwidth = half the time; the adjustment is
    # a shift in time terms too (a machine 10% slower takes 10% longer)
    diff = (a.mean - b.mean if higher_is_better else b.mean - a.mean) \
        - (adjust.shift if adjust else 0.0)
    if min(a.runs, b.runs) < MIN_RUNS:
        ratio = math.exp(diff)
        return Comparison(ratio, 0.0, math.inf, "inconclusive", a.samples, b.samples,
                          a.runs, b.runs, f"{min(a.runs, b.runs)} run on a side: how much "
                          "runs differ is unknown")
    terms: list[tuple[float, float]] = [(a.var / a.runs, a.runs - 1),
                                        (b.var / b.runs, b.runs - 1)]
    if adjust:
        terms.append((adjust.var, adjust.df))
    # the runs' own variance already holds a little of the boot effect (1/runs
    # of it a side); adding the whole of it again errs on the wide side
    boot_var = 0.0
    if boot and boot.sd > 0 and any(boots):
        boot_var = boot.sd ** 2 * sum(1 / n for n in boots if n > 0)
        if boot_var:
            terms.append((boot_var, boot.df))
    var = sum(v for v, _ in terms)
    # Welch-Satterthwaite; a zero variance (identical runs) gives the df of the rest,
    # and a variance known exactly (df infinite: identical calibrations) counts none
    spread = sum(v ** 2 / d for v, d in terms if v > 0)
    df = var ** 2 / spread if spread > 0 else math.inf
    half = t_quantile(0.5 + confidence / 2, df) * math.sqrt(var)
    low, high = math.exp(diff - half), math.exp(diff + half)
    verdict = verdict_of(math.exp(diff), low, high, threshold)
    note = ""
    if verdict == "inconclusive" and boot and boot_var > var / 2:   # say why it cannot tell
        note = (f"boots differ by sd {boot.sd:.2f} here: {' and '.join(map(str, boots))} "
                "boots leave the interval wider than the threshold (more boots narrow it)")
    return Comparison(math.exp(diff), low, high, verdict, a.samples, b.samples, a.runs,
                      b.runs, note)


def run_spread(runs) -> tuple[float, float, float]:
    """(centre, low, high) of a side for plots: the geometric mean of its
    runs' medians, and the lowest and highest of them (how much runs differ)."""
    logs = [math.log(r) if isinstance(r, (int, float)) else run_statistic(r) for r in runs]
    if not logs:
        raise UsageError("no runs")
    return math.exp(fmean(logs)), math.exp(min(logs)), math.exp(max(logs))


def median_interval(samples, confidence: float = 0.99) -> tuple[float, float, float]:
    """(median, low, high): the distribution-free interval of the median from
    order statistics (binomial, normal approximation), for plots."""
    xs = sorted(samples)
    n = len(xs)
    if n < MIN_SAMPLES:
        raise UsageError(f"{n} samples: at least {MIN_SAMPLES} are needed")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(n) / 2
    low = max(0, int(math.floor(n / 2 - half)))
    high = min(n - 1, int(math.ceil(n / 2 + half)))
    return float(statistics_median(xs)), float(xs[low]), float(xs[high])
