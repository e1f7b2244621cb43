"""A tiny perftest sweep in the lab (one boot, host stack, real soft-RoCE):
raw outputs kept in the run directory, every result parsed and positive."""
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.perf import perftest_run
from rdmagate.targets import Lab
from tests.support import HAVE_QEMU

TINY = perftest_run.Sweep(("write_lat", "read_bw", "atomic_lat"), lat_sizes=(2,),
                          bw_sizes=(4096,), lat_iters=200, bw_iters=200, job_timeout_s=30)


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed (ci/setup installs it)")
class HostSweep(unittest.TestCase):
    def test_tiny_sweep(self):
        run_dir = Path(tempfile.mkdtemp(prefix="rdmagate-perftest-"))
        self.addCleanup(shutil.rmtree, run_dir)
        lines = []
        results = perftest_run.run_sweep(Lab("host", "test"), run_dir, TINY, say=lines.append)
        log = "\n".join(lines)
        self.assertEqual([(r["tool"], r["size"]) for r in results],
                         [("ib_write_lat", 2), ("ib_read_bw", 4096), ("ib_atomic_lat", 8)])
        for result in results:
            self.assertTrue(result["ok"], f"{result.get('error')}\n{result.get('tail')}\n{log}")
            raw = result["raw"]
            # a try whose clock calibration failed is kept beside the last
            earlier = raw.get("earlier_tries", [])
            files = [raw[key] for key in raw if key != "earlier_tries"] + earlier
            self.assertEqual(sum(n.endswith(".client.txt") for n in earlier) + 1, result["tries"])
            for name in files:
                self.assertTrue((run_dir / name).is_file(), name)
                self.assertGreater((run_dir / name).stat().st_size, 0, name)
            self.assertRegex(result["perftest_version"] or "", r"^\d+\.\d+")
            self.assertEqual(result["iterations"], 200)
            metrics = result["metrics"]
            self.assertTrue(all(v > 0 for k, v in metrics.items() if k != "stdev_us"), metrics)
            if result["tool"].endswith("_lat"):
                # soft-RoCE under TCG: microseconds to milliseconds, never 0 or minutes
                self.assertLess(1, metrics["typical_us"])
                self.assertLess(metrics["typical_us"], 1e6)
                self.assertLessEqual(metrics["min_us"], metrics["typical_us"])
                self.assertLessEqual(metrics["typical_us"], metrics["max_us"])
            else:
                self.assertLess(1e4, metrics["bw_avg_Bps"])   # 10 kB/s .. 100 GB/s
                self.assertLess(metrics["bw_avg_Bps"], 1e11)
        for name in ("jobs.txt", "status.txt", "versions.txt", "perftest_jobs.sh"):
            self.assertTrue((run_dir / "perftest" / name).is_file(), name)


if __name__ == "__main__":
    unittest.main()
