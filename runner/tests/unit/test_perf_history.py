"""The perf history of a machine (perf/history.py): each check's run
medians kept in its stored form, the last ones pooled as the side to
compare with, another machine a history of its own, a bad line one clear
error naming file and line."""
import json
import random
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

from rdmagate.errors import UsageError
from rdmagate.perf import history
from tests.perf_support import without_boot_effect

LAB = {"where": "lab", "cpu_model": "AMD EPYC", "cores": 2, "accel": "tcg"}


def check(rng, median=20000.0, facts=LAB, runs=4):
    """What a check's session holds after measuring (the fields history reads)."""
    return SimpleNamespace(
        machine=dict(facts),
        calibration=[[round(9000 * rng.lognormvariate(0, 0.01)) for _ in range(20)]
                     for _ in range(runs)],
        results={"write_lat-2": {"higher_is_better": False, "runs": [
            [round(median * f * rng.lognormvariate(0, 0.05)) for _ in range(50)]
            for f in (rng.lognormvariate(0, 0.03) for _ in range(runs))]},
            "read_lat-2": {"unsupported": "no"}})


class History(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.results = Path(self.tmp.name)
        without_boot_effect(self)   # a rule on runs of one boot

    def test_the_last_checks_are_the_side_to_compare_with(self):
        rng = random.Random(1)
        path = history.path_for(self.results, LAB, "rxe-6.1", "debian-12")
        self.assertEqual(history.last(path), [])
        for k in range(7):
            history.append(path, f"run{k}", check(rng))
        kept = history.last(path)
        self.assertEqual([e["run_id"] for e in kept], [f"run{k}" for k in range(2, 7)])
        line = json.loads(path.read_text().splitlines()[0])
        self.assertEqual(sorted(line), ["calibration", "format", "machine", "measurements",
                                        "recorded", "run_id"])
        self.assertEqual(len(line["measurements"]["write_lat-2"]["medians"]), 4)
        self.assertNotIn("read_lat-2", line["measurements"])
        now = check(rng, runs=8)
        same = history.compare(kept, "write_lat-2", now.results["write_lat-2"]["runs"], 0.10,
                               now.machine, now.calibration)
        self.assertEqual((same.verdict, same.runs_a, same.runs_b), ("same", 20, 8))
        drifted = check(rng, median=26000.0)
        slower = history.compare(kept, "write_lat-2", drifted.results["write_lat-2"]["runs"],
                                 0.10, drifted.machine, drifted.calibration)
        self.assertEqual(slower.verdict, "slower", slower)
        self.assertIsNone(history.compare(kept, "read_lat-2", [[1] * 5], 0.1, LAB, []))

    def test_another_machine_has_a_history_of_its_own(self):
        other = dict(LAB, cores=4)
        self.assertNotEqual(history.path_for(self.results, LAB, "p", "s"),
                            history.path_for(self.results, other, "p", "s"))
        self.assertEqual(history.path_for(self.results, LAB, "p", "s"),
                         history.path_for(self.results, dict(LAB, unrelated=1), "p", "s"))

    def test_a_bad_line_names_file_and_line(self):
        path = history.path_for(self.results, LAB, "rxe-6.1", "debian-12")
        history.append(path, "run0", check(random.Random(2)))
        with path.open("a") as out:
            out.write('{"format": 1, "measurements": \n')
        with self.assertRaisesRegex(UsageError, rf"^{path}:2: not a perf history line"):
            history.last(path)
        path.write_text('{"format": 7}\n')
        with self.assertRaisesRegex(UsageError, rf"^{path}:1: not a perf history line of format 1"):
            history.last(path)


if __name__ == "__main__":
    unittest.main()
