"""Is B slower than A? A verdict that says "inconclusive" when the data
cannot tell, rather than a false alarm.

The estimate is the Hodges-Lehmann shift of log(sample): the median of all
pairwise differences log(b) - log(a), so exp(shift) is a ratio (1.2 = B takes
20% longer) that a few outliers cannot drag. Its confidence interval is the
distribution-free one that goes with the Mann-Whitney test: the k-th smallest
and k-th largest pairwise differences, k from the normal approximation of
the rank-sum statistic. Pairwise differences are never listed (n*m of them):
the k-th smallest is found by bisection on its value, counting the pairs
below a candidate with one pass over the two sorted samples.

The verdict compares the interval with a practical threshold t (per hardware
profile): slower when the whole interval lies above 1+t, faster when below
1/(1+t), same when it lies within [1/(1+t), 1+t], inconclusive otherwise. A
noisy comparison has a wide interval, and so is inconclusive."""
import math
from dataclasses import dataclass
from statistics import NormalDist, median as statistics_median

from ..errors import UsageError

MIN_SAMPLES = 5


@dataclass(frozen=True)
class Comparison:
    ratio: float          # B over A, in "time" terms (>1: B slower)
    low: float
    high: float
    verdict: str          # faster, same, slower, inconclusive
    n_a: int
    n_b: int

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "ci": [self.low, self.high], "verdict": self.verdict,
                "n": [self.n_a, self.n_b]}


def _count_below(xs: list[float], ys: list[float], d: float) -> int:
    """Pairs (x, y) with y - x <= d; xs and ys sorted ascending."""
    count, j = 0, 0
    for x in xs:                       # as x grows, y <= x + d admits more y
        while j < len(ys) and ys[j] <= x + d:
            j += 1
        count += j
    return count


def _kth_difference(xs: list[float], ys: list[float], k: int) -> float:
    """The k-th smallest (1-based) of all y - x."""
    low, high = ys[0] - xs[-1], ys[-1] - xs[0]
    for _ in range(100):               # bisection on the value: 2^-100 of the range
        mid = (low + high) / 2
        if _count_below(xs, ys, mid) >= k:
            high = mid
        else:
            low = mid
        if high - low <= 1e-12 * max(1.0, abs(high)):
            break
    return high


def _logs(samples, what: str) -> list[float]:
    values = [float(s) for s in samples]
    if len(values) < MIN_SAMPLES:
        raise UsageError(f"{what}: {len(values)} samples, at least {MIN_SAMPLES} are needed")
    if any(not math.isfinite(v) or v <= 0 for v in values):
        raise UsageError(f"{what}: samples must be positive finite numbers")
    return sorted(math.log(v) for v in values)


def shift_interval(a, b, confidence: float = 0.99) -> tuple[float, float, float]:
    """(ratio, low, high): Hodges-Lehmann ratio of b over a and its interval."""
    xs, ys = _logs(a, "sample A"), _logs(b, "sample B")
    n, m = len(xs), len(ys)
    pairs = n * m
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    k = max(1, math.floor(pairs / 2 - z * math.sqrt(n * m * (n + m + 1) / 12)))
    median = (_kth_difference(xs, ys, (pairs + 1) // 2) + _kth_difference(xs, ys, pairs // 2 + 1)) / 2
    low, high = _kth_difference(xs, ys, k), _kth_difference(xs, ys, pairs - k + 1)
    return math.exp(median), math.exp(low), math.exp(high)


def compare(a, b, threshold: float, confidence: float = 0.99,
            higher_is_better: bool = False) -> Comparison:
    """Verdict on B against A. Latency: higher is worse; bandwidth and message
    rate: pass higher_is_better, and the ratio is turned into time terms."""
    if threshold <= 0:
        raise UsageError(f"threshold {threshold}: must be positive (e.g. 0.05 for 5%)")
    ratio, low, high = shift_interval(a, b, confidence)
    if higher_is_better:               # twice the bandwidth = half the time
        ratio, low, high = 1 / ratio, 1 / high, 1 / low
    slow, fast = 1 + threshold, 1 / (1 + threshold)
    if low > slow:
        verdict = "slower"
    elif high < fast:
        verdict = "faster"
    elif fast <= low and high <= slow:
        verdict = "same"
    else:
        verdict = "inconclusive"
    return Comparison(ratio, low, high, verdict, len(a), len(b))


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
