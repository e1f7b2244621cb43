"""rdmagate-perf and its jobs on this host, no guest: what the program
decides before it opens a device, and jobs run here through the job script
(test_perf_native in the lab runs the benchmarks on soft-RoCE)."""
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.perf import native
from rdmagate.targets import HostDevice
from tests.support import BUILD_DIR, BUILT

PERF = BUILD_DIR / "suites" / "perf" / "rdmagate-perf"


@unittest.skipUnless(BUILT, "run through ctest, which builds it")
class CommandLine(unittest.TestCase):
    """What is decided before any device is opened: no lab needed."""

    def perf(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(PERF), *args], capture_output=True, text=True, check=False)

    def test_usage_errors_exit_2_and_leave_no_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = f"{tmp}/x.txt"
            for args in (["--test", "bogus"], ["--test", "write", "--iters", "0"],
                         ["--test", "write", "--iters", "12x"],
                         ["--test", "atomic_cas", "--size", "4"],
                         ["--test", "write", "--batch", "8"],
                         ["--test", "write_batch", "--batch", "0"],
                         ["--test", "write_inline", "--size", "65"],
                         ["--test", "poll_cq", "--size", "8"],
                         ["--test", "write", "stray"]):
                with self.subTest(args=args):
                    done = self.perf("--device", "rxe0", *args, "--out", out)
                    self.assertEqual(done.returncode, 2, done.stderr)
                    self.assertIn("usage: rdmagate-perf", done.stderr)
            self.assertEqual(self.perf("--device", "rxe0", "--test", "write").returncode, 2)
            self.assertFalse(Path(out).exists())

    def test_a_missing_device_is_a_failure_named_on_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = self.perf("--device", "rdmagate-none", "--test", "write",
                             "--out", f"{tmp}/x.txt")
            self.assertEqual(done.returncode, 1)
            self.assertEqual(done.stderr.strip().splitlines(),
                             ["rdmagate-perf: rdmagate-none: No such device (errno 19)"])
            self.assertFalse(Path(tmp, "x.txt").exists())


class JobsOnTheHost(unittest.TestCase):
    """On a device of this host the jobs run here, through the same job
    script as in the lab. A stand-in for rdmagate-perf (this machine has no
    RDMA device) writes known samples, or exits as a device lacking the
    operation does; what is collected must be exactly that."""

    STAND_IN = """#!/bin/sh
out=""
while [ $# -gt 0 ]; do
    [ "$1" = --out ] && out="$2"
    shift
done
[ "${FAKE_EXIT:-0}" = 0 ] || { echo "operation not supported by the device"; exit "$FAKE_EXIT"; }
printf '# rdmagate-perf test=write size=2 iters=3 warmup=0\\n1500\\n1200\\n1300\\n' > "$out"
"""

    def test_jobs_run_here_and_are_collected(self):
        with tempfile.TemporaryDirectory() as tmp:
            perf = Path(tmp) / "rdmagate-perf"
            perf.write_text(self.STAND_IN)
            perf.chmod(0o755)
            jobs = [("write_lat-2.0", native.job_words(perf, "write_lat-2", 3, 0, "mlx5_0")),
                    ("read_lat-2.0", native.job_words(perf, "read_lat-2", 3, 0, "mlx5_0",
                                                      {"FAKE_EXIT": "4"}))]
            out, ran = native.run_jobs(HostDevice("mlx5_0", "--device"), "host",
                                       perf, Path(tmp), jobs)
            self.assertEqual((ran.exit_status, ran.record), (0, {}))
            found = native.collect(out, ["write_lat-2.0", "read_lat-2.0"])
            self.assertEqual(found["write_lat-2.0"]["samples"], [1500, 1200, 1300])
            self.assertEqual(found["read_lat-2.0"],
                             {"unsupported": "operation not supported by the device"})


if __name__ == "__main__":
    unittest.main()
