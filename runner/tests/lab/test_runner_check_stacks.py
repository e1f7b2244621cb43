"""check of a Debian stack that runs in the lab: built against the stack's
headers, run on its own kernel and root (test_runner_check_host runs those
that stay on this host)."""
import unittest

from rdmagate.outputs import results
from rdmagate.outputs.result import Result
from tests.support import check_run


class CheckStacks(unittest.TestCase):
    def test_debian_13_runs_in_the_lab_on_its_own_kernel_and_root(self):
        done, run, by_name, ktap = check_run("--stack", "debian-13")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual((run["where"], run["device"]), ("lab", "rxe0"))
        self.assertTrue(run["lab"]["kernel"].startswith("6.12."))
        self.assertEqual(by_name["is_fork_initialized"]["outcome"], "PASS")
        # with a device, librdmacm's event channel opens
        self.assertEqual(by_name["rdma_event_channel"]["outcome"], "PASS")
        self.assertIn("# Subtest: api", ktap)
        self.assertEqual(run["counts"], results.counts(
            [Result.from_json(r, name) for name, r in by_name.items()]))


if __name__ == "__main__":
    unittest.main()
