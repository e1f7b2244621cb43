"""The perf suite in the lab: a short run compared with the committed
baseline, each measurement with a verdict (test_perf_suite_data reads
baselines and run outputs without a guest)."""
import json
import unittest
from pathlib import Path

from tests.support import HAVE_QEMU, rdmagate


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
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
                             r"\d+\.\d+x the baseline \((99% CI|no interval).* runs against "
                             r"\d+, threshold 10%, lab\)")
            print(f"\n{record['test']}: {record['message']}", end="")
        run_dir = Path(report["run_dir"])
        self.assertTrue(any((run_dir / "native").glob("boot*/write_lat-2.*.txt")))
        self.assertTrue(any((run_dir / "native").glob("boot*/calibrate.*.txt")))
        perf = json.loads((run_dir / "perf.json").read_text())
        self.assertEqual((perf["format"], perf["machine"]["where"]), (2, "lab"))
        self.assertGreaterEqual(perf["boots"], 1)
        # the host's load per core while measuring, kept beside the machine's facts
        self.assertGreaterEqual(perf["machine"]["host_load"], 0.0)


if __name__ == "__main__":
    unittest.main()
