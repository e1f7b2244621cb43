"""check of Debian stacks that stays on this host (no suite selected needs a
device, or the stack runs on this host's C library): built against each
stack's headers, and the abi suite against the recorded baselines."""
import unittest

from rdmagate.stacks import fetch, resolve
from tests.support import check_run


class CheckStacks(unittest.TestCase):
    def test_debian_11_lacks_an_api_and_says_skip(self):
        done, run, by_name, _ = check_run("--stack", "debian-11")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(run["where"], "host")
        skipped = by_name["is_fork_initialized"]
        self.assertEqual(skipped["outcome"], "SKIP")
        self.assertIn("stack lacks ibv_is_fork_initialized", skipped["reason"])
        self.assertEqual(skipped["stack"], "debian-11")


class CheckAbiSuite(unittest.TestCase):
    def test_a_debian_stack_matches_its_own_baseline(self):
        done, run, by_name, ktap = check_run("--suite", "abi", "--stack", "debian-13")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(set(by_name), {"applications", "providers", "build"})
        self.assertTrue(all(r["outcome"] == "PASS" for r in by_name.values()), by_name)
        self.assertIn("debian-13 (baseline) -> debian-13: OK (no changes)",
                      by_name["applications"]["message"])
        self.assertIn("# Subtest: abi", ktap)

    def test_an_older_tree_fails_against_this_hosts_release(self):
        old_tree = fetch(resolve("debian-11"), with_rootfs=False).root
        done, run, by_name, _ = check_run("--suite", "abi", "--stack", f"prefix:{old_tree}")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(by_name["applications"]["outcome"], "FAIL")
        self.assertEqual(by_name["providers"]["outcome"], "FAIL")
        self.assertIn("debian-12 (baseline) -> prefix:", by_name["applications"]["message"])
        self.assertIn("BREAKS", by_name["applications"]["message"])


if __name__ == "__main__":
    unittest.main()
