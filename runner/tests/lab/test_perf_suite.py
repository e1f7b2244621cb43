"""Perf baselines and the perf suite: bad input refused clearly, the best
run chosen, and (in the lab) a short run compared with the committed
baseline, each measurement with a verdict."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.errors import InfraError, UsageError
from rdmagate.perf import baseline, native
from tests.support import REPO_ROOT, rdmagate


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


@unittest.skipUnless(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 is not installed")
class PerfSuiteInTheLab(unittest.TestCase):
    def test_short_run_against_the_committed_baseline(self):
        done = rdmagate("check", "--stack", "debian-12", "--suite", "perf", "--json",
                        timeout=900)
        # Slower is a finding, not a harness error: exit 0 or 1, never 2 or 3.
        self.assertIn(done.returncode, (0, 1), done.stderr[-3000:])
        report = json.loads(done.stdout)
        results = report["results"]
        self.assertEqual(len(results), 12)
        for record in results:
            self.assertIn(record["outcome"], ("PASS", "FAIL", "SKIP"), record)
            self.assertRegex(record["message"], r"^(same|faster|slower|inconclusive): "
                             r"\d+\.\d+x the baseline \(99% CI")
            print(f"\n{record['test']}: {record['message']}", end="")
        run_dir = Path(report["run_dir"])
        self.assertTrue(any((run_dir / "native").glob("write_lat-2.*.txt")))


if __name__ == "__main__":
    unittest.main()
