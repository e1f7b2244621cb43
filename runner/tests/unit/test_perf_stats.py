"""The verdict on synthetic runs with known answers, among them data with a
known variance between runs: an interval that treats the samples of a run
as independent draws fails these tests (test_runs_not_samples_are_the_unit
shows it on the same data)."""
import math
import random
import statistics
import unittest
from collections import Counter

from rdmagate.errors import UsageError
from rdmagate.perf import stats


def latencies(rng, n, median=20.0, spread=0.05, tail=0.0, tail_factor=10.0):
    """Lognormal latencies around `median` with an optional heavy tail."""
    out = []
    for _ in range(n):
        value = median * rng.lognormvariate(0, spread)
        if rng.random() < tail:
            value *= tail_factor * rng.random() + 1
        out.append(value)
    return out


def runs(rng, count, median=20.0, between=0.05, n=300, **within):
    """`count` runs; each run's own median is off by a lognormal factor of sd
    `between` (its boot, its placement), its samples spread around that."""
    return [latencies(rng, n, median * rng.lognormvariate(0, between), **within)
            for _ in range(count)]


def naive(a_runs, b_runs, confidence=0.99):
    """The interval this suite used to give, in effect: every sample an
    independent draw (a normal interval on the difference of mean logs)."""
    xa = [math.log(v) for r in a_runs for v in r]
    xb = [math.log(v) for r in b_runs for v in r]
    se = math.sqrt(statistics.variance(xa) / len(xa) + statistics.variance(xb) / len(xb))
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    d = statistics.fmean(xb) - statistics.fmean(xa)
    return math.exp(d - z * se), math.exp(d + z * se)


class TQuantile(unittest.TestCase):
    def test_known_values(self):
        for df, p, value in ((1, 0.995, 63.657), (4, 0.995, 4.604), (10, 0.995, 3.169),
                             (30, 0.975, 2.042), (1e7, 0.975, 1.960)):
            self.assertAlmostEqual(stats.t_quantile(p, df), value, places=2)


class RunsAreTheUnit(unittest.TestCase):
    def test_runs_not_samples_are_the_unit(self):
        # 300 A/A comparisons, 6 runs a side, 5% between runs: the true ratio
        # is 1. The interval must hold it about 99% of the time; one that
        # ignores the variance between runs holds it far less often.
        rng = random.Random(11)
        covered = naive_covered = 0
        trials = 300
        for _ in range(trials):
            a, b = runs(rng, 6), runs(rng, 6)
            cmp = stats.compare(a, b, 0.10)
            covered += cmp.low <= 1 <= cmp.high
            low, high = naive(a, b)
            naive_covered += low <= 1 <= high
        self.assertGreaterEqual(covered / trials, 0.97)
        self.assertLess(naive_covered / trials, 0.5)

    def test_a_and_a_false_verdicts_are_rare(self):
        rng = random.Random(12)
        verdicts = [stats.compare(runs(rng, 8, between=0.04), runs(rng, 8, between=0.04),
                                  0.10).verdict for _ in range(300)]
        self.assertLessEqual(verdicts.count("slower"), 3)
        self.assertLessEqual(verdicts.count("faster"), 3)
        self.assertGreater(verdicts.count("same"), 150)   # and it can still say same

    def test_a_known_20_percent_slowdown_is_slower_with_the_ratio_in_the_interval(self):
        rng = random.Random(2)
        result = stats.compare(runs(rng, 8, between=0.03), runs(rng, 8, median=24.0,
                                                                between=0.03), 0.10)
        self.assertEqual(result.verdict, "slower", result)
        self.assertLess(result.low, 1.2)
        self.assertGreater(result.high, 1.2)
        self.assertEqual((result.runs_a, result.runs_b, result.n_a), (8, 8, 2400))

    def test_a_slowdown_of_the_threshold_is_caught_19_times_in_20(self):
        # the target: a true 10% slowdown, threshold 10%, runs like the
        # lab's (sd 0.036 between runs, 8 against 8). "The whole interval above
        # 1.10" calls it slower less than half the time; the rule must not.
        rng = random.Random(21)
        verdicts = [stats.compare(runs(rng, 8, between=0.036, n=100),
                                  runs(rng, 8, median=22.0, between=0.036, n=100),
                                  0.10).verdict for _ in range(200)]
        self.assertGreaterEqual(verdicts.count("slower"), 190, Counter(verdicts))
        # "same" only where the interval missed the true ratio (1% of intervals)
        self.assertLessEqual(verdicts.count("same"), 2)
        self.assertEqual(verdicts.count("faster"), 0)

    def test_a_small_clear_change_is_not_slower(self):
        # 3% slower, a clear interval that still reaches past 1.10: below half
        # the threshold, so not a failure; within the threshold once narrow
        self.assertEqual(stats.verdict_of(1.03, 1.005, 1.12, 0.10), "inconclusive")
        self.assertEqual(stats.verdict_of(1.03, 1.01, 1.05, 0.10), "same")
        self.assertEqual(stats.verdict_of(1.06, 1.01, 1.12, 0.10), "slower")
        # same wins where both hold: the change is shown smaller than the threshold
        self.assertEqual(stats.verdict_of(1.07, 1.05, 1.09, 0.10), "same")
        self.assertEqual(stats.verdict_of(0.94, 0.89, 0.99, 0.10), "faster")
        self.assertEqual(stats.verdict_of(0.97, 0.89, 0.995, 0.10), "inconclusive")

    def test_the_boot_is_a_unit_in_the_lab(self):
        # lab-like sides: each boot shifts all its runs by a factor of sd 0.10
        # (as bench/perf_verdict.py measured), runs within it by 0.03. A check
        # of one boot against a baseline of two: ignoring the boot effect
        # gives false verdicts in about a third of A/A comparisons; with it,
        # rarely, and a large slowdown over enough boots is still slower.
        rng = random.Random(31)

        def booted(boots, median=20.0):
            out = []
            for _ in range(boots):
                out += runs(rng, 4, median * rng.lognormvariate(0, 0.10), between=0.03, n=50)
            return out
        effect = stats.BootEffect(0.10, 19)
        blind, aware = Counter(), Counter()
        for _ in range(200):
            base, now = booted(2), booted(1)
            blind[stats.compare(base, now, 0.10).verdict] += 1
            aware[stats.compare(base, now, 0.10, boot=effect, boots=(2, 1)).verdict] += 1
        self.assertGreater(blind["slower"] + blind["faster"], 40, blind)
        self.assertLessEqual(aware["slower"] + aware["faster"], 2, aware)
        slower = [stats.compare(booted(12), booted(12, median=30.0), 0.10, boot=effect,
                                boots=(12, 12)).verdict for _ in range(50)]
        self.assertGreaterEqual(slower.count("slower"), 45, Counter(slower))
        # boots 0: that side's runs already span many boots (a history of checks)
        one = stats.compare(booted(2), booted(1), 0.10, boot=effect, boots=(2, 1))
        none = stats.compare(booted(2), booted(1), 0.10, boot=effect, boots=(0, 0))
        self.assertGreater(one.high / one.low, none.high / none.low)

    def test_a_speedup_is_faster(self):
        rng = random.Random(3)
        result = stats.compare(runs(rng, 6, between=0.02), runs(rng, 6, median=15.0,
                                                                between=0.02), 0.10)
        self.assertEqual(result.verdict, "faster", result)

    def test_few_noisy_runs_are_inconclusive_not_a_false_alarm(self):
        rng = random.Random(4)
        result = stats.compare(runs(rng, 3, between=0.15), runs(rng, 3, median=23.0,
                                                                between=0.15), 0.10)
        self.assertEqual(result.verdict, "inconclusive", result)

    def test_one_run_a_side_cannot_tell(self):
        rng = random.Random(5)
        result = stats.compare(runs(rng, 1), runs(rng, 6, median=40.0), 0.10)
        self.assertEqual(result.verdict, "inconclusive")
        self.assertIn("1 run on a side", result.note)
        self.assertEqual(result.as_dict()["ci"], [])

    def test_outliers_within_runs_do_not_make_a_slowdown(self):
        rng = random.Random(6)
        base = runs(rng, 6, between=0.02)
        tailed = runs(rng, 6, between=0.02, tail=0.02, tail_factor=15)   # TCG's 290 us tail
        self.assertNotEqual(stats.compare(base, tailed, 0.10).verdict, "slower")

    def test_bandwidth_direction_and_one_number_runs(self):
        # perftest reports one figure a run: runs may be numbers
        a, b = [40.0, 41.0, 39.5, 40.2], [30.0, 30.5, 29.8, 30.1]
        result = stats.compare(a, b, 0.05, higher_is_better=True)
        self.assertEqual(result.verdict, "slower")
        self.assertAlmostEqual(result.ratio, 40.2 / 30.1, delta=0.03)

    def test_an_adjustment_shifts_and_widens(self):
        rng = random.Random(7)
        a = runs(rng, 8, between=0.02)
        b = [[v * 1.3 for v in r] for r in runs(rng, 8, between=0.02)]
        plain = stats.compare(a, b, 0.10)
        adjusted = stats.compare(a, b, 0.10, adjust=stats.Adjustment(math.log(1.3), 0.02 ** 2, 7))
        self.assertEqual(plain.verdict, "slower")
        self.assertAlmostEqual(adjusted.ratio, plain.ratio / 1.3, places=6)
        self.assertGreater(math.log(adjusted.high / adjusted.low),
                           math.log(plain.high / plain.low))
        # a slower machine lowers bandwidth: the same shift, in time terms
        bw = stats.compare([10.0, 10.1, 9.9], [7.7, 7.8, 7.6], 0.10, higher_is_better=True,
                           adjust=stats.Adjustment(math.log(1.3), 0.0, math.inf))
        self.assertAlmostEqual(bw.ratio, 1.0, delta=0.02)

    def test_bad_samples_are_errors(self):
        with self.assertRaisesRegex(UsageError, "at least 5"):
            stats.compare([[1, 2]], [[1, 2, 3, 4, 5]], 0.05)
        with self.assertRaisesRegex(UsageError, "positive finite"):
            stats.compare([[1, 2, 3, 4, 0]], [[1, 2, 3, 4, 5]], 0.05)
        with self.assertRaisesRegex(UsageError, "no runs"):
            stats.compare([], [[1, 2, 3, 4, 5]], 0.05)
        with self.assertRaisesRegex(UsageError, "threshold"):
            stats.compare([[1, 2, 3, 4, 5]], [[1, 2, 3, 4, 5]], 0)


if __name__ == "__main__":
    unittest.main()
