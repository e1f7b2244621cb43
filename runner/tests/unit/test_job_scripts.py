"""The job scripts a target runs (rdmagate/targets/scripts/), run here with
stand-ins on PATH: what they read is never evaluated, what they record is
exactly what ran. (perftest_jobs.sh has its own tests in test_perf_perftest.)"""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.targets import scripts


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


class JobScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-jobs-"))
        self.bin = self.tmp / "bin"
        self.bin.mkdir()
        self.env = dict(os.environ, PATH=f"{self.bin}:{os.environ['PATH']}")

    def tearDown(self):
        subprocess.run(["rm", "-rf", str(self.tmp)], check=True)

    def sh(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", *argv], capture_output=True, text=True, env=self.env,
                              timeout=30, check=False)

    def test_capture_devinfo_records_the_device_then_runs_the_argv(self):
        stand_in(self.bin, "ibv_devinfo", 'echo "hca_id: $3 args: $*"\n')
        out = self.tmp / "devinfo.txt"
        done = self.sh(str(scripts.CAPTURE_DEVINFO), str(out), "rxe0", "--",
                       "sh", "-c", "echo ran; exit 7")
        self.assertEqual((done.returncode, done.stdout), (7, "ran\n"))   # exec'd: its status
        self.assertEqual(out.read_text(), "hca_id: rxe0 args: -v -d rxe0\n")

    def test_capture_devinfo_says_when_ibv_devinfo_failed(self):
        stand_in(self.bin, "ibv_devinfo", "echo 'no such device' >&2; exit 5\n")
        out = self.tmp / "devinfo.txt"
        done = self.sh(str(scripts.CAPTURE_DEVINFO), str(out), "mlx5_9", "--", "true")
        self.assertEqual(done.returncode, 0)
        self.assertEqual(out.read_text(), "no such device\nibv_devinfo failed: 5\n")

    def test_native_jobs_run_each_line_as_argv_and_record_its_status(self):
        out = self.tmp / "out"
        out.mkdir()
        marker = self.tmp / "evaluated"
        jobs = self.tmp / "jobs.txt"
        stand_in(self.bin, "fake-perf", 'echo "$@" > "$(eval echo \\${$#})"; exit "${CODE:-0}"\n')
        jobs.write_text(f"one CODE=0 fake-perf --test write\n"
                        f"two CODE=4 fake-perf --test read;touch\t{marker}\n"
                        f"bad/name fake-perf\n"
                        f"three fake-perf $(touch {marker}) *\n")
        done = self.sh(str(scripts.NATIVE_JOBS), str(out), str(jobs))
        self.assertEqual(done.returncode, 0)
        self.assertIn("skipping a malformed job line", done.stderr)
        self.assertEqual((out / "status.txt").read_text(), "one 0\ntwo 4\nthree 0\n")
        self.assertEqual((out / "one.txt").read_text(), f"--test write --out {out}/one.txt\n")
        # words are split, never evaluated: no command substitution, no glob
        self.assertEqual((out / "three.txt").read_text(),
                         f"$(touch {marker}) * --out {out}/three.txt\n")
        self.assertFalse(marker.exists())

    def test_native_jobs_refuse_a_missing_directory(self):
        done = self.sh(str(scripts.NATIVE_JOBS), str(self.tmp / "absent"), str(self.tmp / "x"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("usage: native_jobs.sh", done.stderr)


if __name__ == "__main__":
    unittest.main()
