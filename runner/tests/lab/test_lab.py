"""The lab on real Debian kernels under QEMU, with real soft-RoCE."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from tests.support import HAVE_QEMU, RDMAGATE, rdmagate

# The client tries again until the server listens (a loaded machine may be
# slow to start it), and a server left waiting is stopped, never waited for.
PINGPONG_LOOPBACK = ("ibv_rc_pingpong -d rxe0 -g 1 -n 50 & s=$!; for i in 1 2 3 4 5 6 7 8 9 10; "
                     "do sleep 1; ibv_rc_pingpong -d rxe0 -g 1 -n 50 $RDMAGATE_LAB_ADDRESS && break; "
                     "done; c=$?; kill $s 2>/dev/null; wait; exit $c")


class LabTemp:
    """A private TMPDIR for one rdmagate run: its lab work directory lands
    there, so its QEMU processes are the ones whose command line names it
    (other tests may run guests at the same time)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rdmagate-labtest-")
        self.env = {"TMPDIR": self.dir}

    def qemu_pids(self) -> set[int]:
        done = subprocess.run(["pgrep", "-f", f"qemu-system-x86_64 .*{self.dir}/"],
                              capture_output=True, text=True, check=False)
        return {int(pid) for pid in done.stdout.split()}

    def leftovers(self) -> list[str]:
        return [p.name for p in Path(self.dir).glob("rdmagate-lab-*")]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed (ci/setup installs it)")
class OneNode(unittest.TestCase):
    def setUp(self):
        self.temp = LabTemp()

    def tearDown(self):
        survivors, leftovers = self.temp.qemu_pids(), self.temp.leftovers()
        self.temp.cleanup()
        self.assertEqual(survivors, set(), "a QEMU process survived")
        self.assertEqual(leftovers, [], "a lab work directory was left behind")

    def lab(self, *args):
        return rdmagate("lab", "run", *args, env=self.temp.env)

    def test_debian_12_on_6_1_active_port_devinfo_and_pingpong(self):
        script = ("readlink -f /usr/lib/x86_64-linux-gnu/libibverbs.so.1; ibv_devinfo -d rxe0; "
                  + PINGPONG_LOOPBACK)
        done = self.lab("--stack", "debian-12", "--", "sh", "-c", script)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("kernel 6.1.", done.stderr)
        self.assertRegex(done.stdout, r"libibverbs\.so\.1\.\d+\.44\.0")  # the stack's, not the host's
        self.assertRegex(done.stdout, r"hca_id:\s+rxe0")
        self.assertRegex(done.stdout, r"state:\s+PORT_ACTIVE")
        self.assertEqual(len(re.findall(r"50 iters in", done.stdout)), 2, done.stdout)

    def test_debian_13_on_6_12_in_its_own_root(self):
        script = "readlink -f /usr/lib/x86_64-linux-gnu/libibverbs.so.1; ibv_devices; " \
                 + PINGPONG_LOOPBACK
        done = self.lab("--stack", "debian-13", "--", "sh", "-c", script)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("kernel 6.12.", done.stderr)
        self.assertRegex(done.stdout, r"libibverbs\.so\.1\.\d+\.56\.1")
        self.assertIn("rxe0", done.stdout)
        self.assertEqual(len(re.findall(r"50 iters in", done.stdout)), 2, done.stdout)

    def test_failing_guest_command_fails_lab_run_with_its_status(self):
        done = self.lab("--stack", "debian-12", "--", "sh", "-c", "exit 7")
        self.assertEqual(done.returncode, 7, done.stderr)

    def test_hanging_command_is_killed_at_the_timeout(self):
        started = time.monotonic()
        done = self.lab("--stack", "debian-12", "--timeout", "5", "--", "sleep", "600")
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("did not finish within 5 s", done.stderr)
        # killed at 5 s, not left to sleep 600 (the margin is for a slow boot under TCG)
        self.assertLess(time.monotonic() - started, 300)

    def test_sigterm_mid_boot_leaves_nothing_behind(self):
        proc = subprocess.Popen([sys.executable, str(RDMAGATE), "lab", "run", "--stack",
                                 "debian-12", "--", "sleep", "600"],
                                env=dict(os.environ, **self.temp.env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.temp.qemu_pids():
            time.sleep(0.1)
        self.assertTrue(self.temp.qemu_pids(), "QEMU never started")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        self.assertNotEqual(proc.returncode, 0)


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed (ci/setup installs it)")
class TwoNodes(unittest.TestCase):
    def test_client_and_server_cross_the_link(self):
        temp = LabTemp()
        self.addCleanup(temp.cleanup)
        # the server listens 3 s late (a slow start under load): the client
        # must wait for it, not for a fixed time
        done = rdmagate("lab", "run", "--stack", "debian-12", "--nodes", "2",
                        "--server", "perl -e sleep(3);exec(@ARGV) ibv_rc_pingpong -d rxe0 -g 1 "
                        "-n 20", "--",
                        "sh", "-c", "ibv_rc_pingpong -d rxe0 -g 1 -n 20 $RDMAGATE_PEER",
                        env=temp.env)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        # each side saw the other's address as its remote GID
        self.assertRegex(done.stdout, r"\[node2\]\s+remote address:.*GID ::ffff:10\.77\.0\.1")
        self.assertRegex(done.stdout, r"\[node1\]\s+remote address:.*GID ::ffff:10\.77\.0\.2")
        self.assertRegex(done.stdout, r"\[node2\] 20 iters in")
        self.assertEqual((temp.qemu_pids(), temp.leftovers()), (set(), []))


if __name__ == "__main__":
    unittest.main()
