"""What the perf suite reads, no guest: perf baselines (bad ones refused
clearly, compared in the direction they record) and rdmagate-perf's outputs
(the best run chosen, garbage refused)."""
import json
import tempfile
import unittest
from pathlib import Path

from rdmagate.errors import InfraError, UsageError
from rdmagate.perf import baseline, native
from tests.support import REPO_ROOT


class Baselines(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "b.json"

    def tearDown(self):
        self.tmp.cleanup()

    def load(self, data) -> dict:
        self.path.write_text(data if isinstance(data, str) else json.dumps(data))
        return baseline.load(self.path)

    def test_committed_baselines_load(self):
        for path in sorted((REPO_ROOT / "baselines" / "perf").glob("*/*.json")):
            data = baseline.load(path)
            self.assertGreaterEqual(len(data["measurements"]["write_lat-2"]["samples"]), 1000)
        self.assertTrue((REPO_ROOT / "baselines/perf/rxe-6.1/debian-12.json").is_file())
        self.assertTrue((REPO_ROOT / "baselines/perf/rxe-6.12/debian-13.json").is_file())

    def test_corrupt_baselines_name_file_and_field(self):
        with self.assertRaisesRegex(UsageError, r"b.json: not a valid baseline \(JSON"):
            self.load('{"format": 1, "measurements": {')
        with self.assertRaisesRegex(UsageError, r"b.json: field format"):
            self.load({"format": 2})
        good = {"format": 1, "measurements": {"write_lat-2": {"higher_is_better": False,
                                                              "samples": [1, 2, 3, 4, 5]}}}
        self.assertEqual(self.load(good)["format"], 1)
        good["measurements"]["write_lat-2"]["samples"][2] = 0   # never a zero latency
        with self.assertRaisesRegex(UsageError, r"field measurements.write_lat-2.samples"):
            self.load(good)

    def test_values_of_the_wrong_type_are_refused(self):
        # samples of true once read as 1 ns each, and every run was "slower"
        def with_(**change):
            data = {"format": 1, "iters": 2000, "measurements": {"write_lat-2": {
                "higher_is_better": False, "samples": [31000] * 5}}}
            data["measurements"]["write_lat-2"].update(change.pop("m", {}))
            return {**data, **change}
        for bad, field in ((with_(m={"samples": [True] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": [31000.5] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": ["31000"] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": [31000] * (baseline.MAX_SAMPLES + 1)}),
                            "write_lat-2.samples"),
                           (with_(m={"higher_is_better": "false"}), "write_lat-2.higher_is_better"),
                           (with_(iters="2000"), "iters"), (with_(iters=True), "iters"),
                           (with_(kernel=6.1), "kernel")):
            with self.subTest(field=field, bad=str(bad)[:80]):
                with self.assertRaisesRegex(UsageError, rf"b.json: field (measurements\.)?"
                                            rf"{field}: "):
                    self.load(bad)

    def test_comparison_goes_the_way_the_baseline_records(self):
        stored = {"format": 1, "measurements": {
            "write_lat-2": {"higher_is_better": False, "samples": [100 + i % 7 for i in range(300)]},
            "write_rate-64": {"higher_is_better": True, "samples": [100 + i % 7 for i in range(300)]}}}
        halved = [50 + i % 4 for i in range(300)]
        self.assertEqual(baseline.compare(stored, "write_lat-2", halved, 0.1).verdict, "faster")
        self.assertEqual(baseline.compare(stored, "write_rate-64", halved, 0.1).verdict, "slower")


class NativeRuns(unittest.TestCase):
    def test_best_run_is_the_lowest_median(self):
        found = {"m.0": {"samples": [30, 31, 90]}, "m.1": {"samples": [20, 21, 22]},
                 "m.2": {"error": "exit 1"}}
        best = native.best_of(found, "m", 3)
        self.assertEqual((best["samples"], best["runs"]), ([20, 21, 22], 2))
        self.assertEqual(native.best_of({"m.0": {"error": "x"}}, "m", 1), {"error": "x"})

    def test_garbage_output_and_unsafe_words_are_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "x.txt"
            out.write_text("Segmentation fault\n")
            with self.assertRaisesRegex(InfraError, "no rdmagate-perf header"):
                native.read_samples(out)
            out.write_text("# rdmagate-perf test=write\n12\n0\n")
            with self.assertRaisesRegex(InfraError, "not positive"):
                native.read_samples(out)
            with self.assertRaisesRegex(InfraError, "a word with a space"):
                native.write_jobs(Path(tmp) / "jobs", [("m", ["a b"])])


if __name__ == "__main__":
    unittest.main()
