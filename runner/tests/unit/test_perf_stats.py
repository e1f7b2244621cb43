"""The verdict on synthetic samples with known answers."""
import random
import unittest

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


class Estimator(unittest.TestCase):
    def test_hodges_lehmann_recovers_a_known_ratio_exactly_on_shifted_data(self):
        a = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
        b = [x * 1.25 for x in a]
        ratio, low, high = stats.shift_interval(a, b)
        self.assertAlmostEqual(ratio, 1.25, places=6)
        self.assertLessEqual(low, 1.25)
        self.assertGreaterEqual(high, 1.25)

    def test_matches_the_brute_force_median_of_pairwise_ratios(self):
        rng = random.Random(7)
        a, b = latencies(rng, 41, spread=0.3), latencies(rng, 37, median=25, spread=0.3)
        pairs = sorted(y / x for x in a for y in b)
        mid = len(pairs) // 2
        brute = pairs[mid] if len(pairs) % 2 else (pairs[mid - 1] * pairs[mid]) ** 0.5
        self.assertAlmostEqual(stats.shift_interval(a, b)[0], brute, places=6)


class Verdicts(unittest.TestCase):
    def test_same_distribution_is_same(self):
        rng = random.Random(1)
        result = stats.compare(latencies(rng, 2000), latencies(rng, 2000), threshold=0.05)
        self.assertEqual(result.verdict, "same", result)

    def test_a_known_20_percent_slowdown_is_slower_with_the_ratio_in_the_interval(self):
        rng = random.Random(2)
        result = stats.compare(latencies(rng, 1000), latencies(rng, 1000, median=24.0),
                               threshold=0.05)
        self.assertEqual(result.verdict, "slower")
        self.assertLess(result.low, 1.2)
        self.assertGreater(result.high, 1.2)

    def test_a_speedup_is_faster(self):
        rng = random.Random(3)
        result = stats.compare(latencies(rng, 500), latencies(rng, 500, median=15.0), 0.05)
        self.assertEqual(result.verdict, "faster")

    def test_heavy_noise_is_inconclusive_not_a_false_alarm(self):
        rng = random.Random(4)
        noisy = dict(spread=0.8, tail=0.2)
        result = stats.compare(latencies(rng, 12, **noisy), latencies(rng, 12, median=22, **noisy),
                               threshold=0.05)
        self.assertEqual(result.verdict, "inconclusive", result)

    def test_outliers_do_not_make_a_slowdown(self):
        rng = random.Random(5)
        base = latencies(rng, 3000)
        tailed = latencies(rng, 3000, tail=0.02, tail_factor=15)   # like TCG's 290 us tail
        self.assertNotEqual(stats.compare(base, tailed, threshold=0.05).verdict, "slower")

    def test_bandwidth_direction(self):
        rng = random.Random(6)
        result = stats.compare(latencies(rng, 500, median=40), latencies(rng, 500, median=30),
                               threshold=0.05, higher_is_better=True)
        self.assertEqual(result.verdict, "slower")
        self.assertAlmostEqual(result.ratio, 40 / 30, delta=0.03)

    def test_false_alarm_rate_on_a_and_a(self):
        # 200 A/A comparisons of the same distribution: a false "slower" in at
        # most 1% of them (the interval's 99% and the threshold both guard)
        rng = random.Random(8)
        alarms = sum(stats.compare(latencies(rng, 200, spread=0.2),
                                   latencies(rng, 200, spread=0.2), 0.05).verdict == "slower"
                     for _ in range(200))
        self.assertLessEqual(alarms, 2)

    def test_bad_samples_are_errors(self):
        with self.assertRaisesRegex(UsageError, "at least 5"):
            stats.compare([1, 2], [1, 2, 3, 4, 5], 0.05)
        with self.assertRaisesRegex(UsageError, "positive finite"):
            stats.compare([1, 2, 3, 4, 0], [1, 2, 3, 4, 5], 0.05)


if __name__ == "__main__":
    unittest.main()
