"""The job scripts a target runs (rdmagate/targets/scripts/), run here with
stand-ins on PATH: what they read is never evaluated, what they record is
exactly what ran. (perftest_jobs.sh has its own tests in test_perf_perftest.)"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from rdmagate.perf import attribute
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

    def profiling_stand_ins(self) -> Path:
        """The job scripts side by side (as run_jobs copies them), a
        rdmagate-perf that says when its timed loop ran, and a perf that
        runs what it records and lists one sample inside each loop; no
        private mounts here. The directory of the scripts."""
        scripts_dir = self.tmp / "scripts"
        scripts_dir.mkdir()
        for script in (scripts.NATIVE_JOBS, scripts.PROFILE_JOB):
            shutil.copy(script, scripts_dir)
        stand_in(self.bin, "unshare", "exit 1\n")
        stand_in(self.bin, "fake-perf", 'echo "# test=$2" > "$(eval echo \\${$#})"\n'
                 '[ -z "$RDMAGATE_PERF_WINDOW" ] ||\n'
                 '  echo "$FROM $TO" > "$RDMAGATE_PERF_WINDOW"\n')
        stand_in(self.bin, "perf", 'if [ "$1" = script ]; then\n'
                 '  echo "100.500000:  ffffffffc04e1e38 rxe_requester ([kernel.kallsyms])"\n'
                 '  echo "102.500000:  7f3a12345678 wait_cq (/x/rdmagate-perf)"; exit 0\n'
                 'fi\n'
                 'while [ "$1" != -- ]; do [ "$1" != -o ] || data="$2"; shift; done; shift\n'
                 '"$@" && echo recorded > "$data"\n')
        return scripts_dir

    def one_job(self, name: str) -> tuple[Path, Path]:
        """An empty OUT_DIR and a JOBS_FILE of one fake-perf job named name."""
        out = self.tmp / "out"
        out.mkdir()
        jobs = self.tmp / "jobs.txt"
        jobs.write_text(f"{name} fake-perf --test write\n")
        return out, jobs

    def test_native_jobs_wait_in_the_boot_for_what_to_profile(self):
        scripts_dir = self.profiling_stand_ins()
        out, jobs = self.one_job("write_lat-2.0")
        with (self.tmp / "stderr").open("w") as stderr:
            guest = subprocess.Popen(["sh", str(scripts_dir / "native_jobs.sh"), str(out),
                                      str(jobs), str(scripts_dir / "profile_job.sh")],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            measured = out / "measured"
            deadline = time.monotonic() + 30
            while not measured.exists() and guest.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(measured.exists(), (self.tmp / "stderr").read_text())
            # the measured runs are in, and it waits for the host
            self.assertEqual((out / "status.txt").read_text(), "write_lat-2.0 0\n")
            self.assertIsNone(guest.poll())
            self.assertFalse((out / "profiles").exists())
            part = out / "profile.jobs.part"
            part.write_text("profile-write_lat-2 FROM=100.0 TO=101.0 fake-perf --test write\n"
                            "profile-write_lat-64 FROM=102.0 TO=103.0 fake-perf --test write\n")
            os.replace(part, out / "profile.jobs")
            self.assertEqual(guest.wait(timeout=30), 0)
        finally:
            guest.kill()
            guest.wait()
        profiles = out / "profiles"
        self.assertEqual((profiles / "status.txt").read_text(),
                         "profile-write_lat-2 0\nprofile-write_lat-64 0\n")
        self.assertEqual((profiles / "profile-write_lat-2.window").read_text(), "100.0 101.0\n")
        # each window keeps its own sample
        self.assertEqual(attribute.read(profiles, ["write_lat-2", "write_lat-64"]), {
            "write_lat-2": {"shares": {"rxe_requester (kernel)": 100.0}},
            "write_lat-64": {"shares": {"wait_cq (rdmagate-perf)": 100.0}}})

    def test_native_jobs_profile_nothing_when_the_host_chose_nothing(self):
        scripts_dir = self.profiling_stand_ins()
        out, jobs = self.one_job("write_lat-2.0")
        (out / "profile.jobs").write_text("")   # written before the guest asked: no wait
        done = self.sh(str(scripts_dir / "native_jobs.sh"), str(out), str(jobs),
                       str(scripts_dir / "profile_job.sh"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue((out / "measured").exists())
        self.assertFalse((out / "profiles").exists())

    def test_a_root_without_perf_says_so(self):
        out, jobs = self.one_job("profile-write_lat-2")
        env = dict(self.env, PATH=str(self.bin))
        for tool in ("sh", "mkdir", "dirname"):
            os.symlink(shutil.which(tool) or tool, self.bin / tool)
        done = subprocess.run(["sh", str(scripts.PROFILE_JOB), str(out), str(jobs)], env=env,
                              capture_output=True, text=True, timeout=30, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(attribute.read(out, ["write_lat-2"]), {
            "write_lat-2": {"why": "unattributed: no perf (linux-perf) in this root"}})


if __name__ == "__main__":
    unittest.main()
