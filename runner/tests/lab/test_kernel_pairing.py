"""Userspace x kernel in the lab: Debian 12's userspace on bookworm-backports'
6.12 kernel, the upgrade many sites make first (one guest boot)."""
import unittest

from rdmagate.stacks.archive import Archive
from tests.support import check_run


def backports_release() -> str:
    """The kernel release bookworm-backports serves today: what its
    linux-image-amd64 depends on (linux-image-<release>)."""
    suite = Archive("bookworm-backports")
    suite.update()
    shown = suite._apt("apt-cache", "show", "linux-image-amd64").stdout
    depends = next(line for line in shown.splitlines() if line.startswith("Depends:"))
    return depends.split()[1].removeprefix("linux-image-")


class KernelPairing(unittest.TestCase):
    def test_debian_12_userspace_on_the_backports_kernel(self):
        release = backports_release()
        self.assertTrue(release.startswith("6.12."), release)
        done, run, by_name, ktap = check_run("--stack", "debian-12", "--kernel", release)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual((run["where"], run["stack"]), ("lab", "debian-12"))
        self.assertEqual(run["lab"]["kernel"], release)
        # the profile of the kernel that ran, not of debian-12's 6.1
        self.assertTrue(run["profile"].endswith("rxe-6.12.yaml"), run["profile"])
        self.assertEqual(by_name["rdma_event_channel"]["outcome"], "PASS")
        self.assertIn(f"--kernel {release}", done.stderr)


if __name__ == "__main__":
    unittest.main()
