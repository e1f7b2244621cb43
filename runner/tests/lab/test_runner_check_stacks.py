"""check on Debian stacks: built against each stack's headers, run where it can."""
import json
import tempfile
import unittest
from pathlib import Path

from rdmagate import results
from rdmagate.stacks import fetch, resolve
from tests.support import rdmagate


def check(*args):
    if "--suite" not in args:
        args = ("--suite", "api", *args)
    with tempfile.TemporaryDirectory() as tmp:
        done = rdmagate("check", *args, "--results", tmp)
        (run_dir,) = Path(tmp).iterdir()
        return done, json.loads((run_dir / "run.json").read_text()), \
            {r.name: r.to_json() for r in results.read(run_dir / "results.jsonl")}, \
            (run_dir / "ktap.log").read_text()


class CheckStacks(unittest.TestCase):
    def test_debian_11_lacks_an_api_and_says_skip(self):
        done, run, by_name, _ = check("--stack", "debian-11")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(run["where"], "host")
        skipped = by_name["is_fork_initialized"]
        self.assertEqual(skipped["outcome"], "SKIP")
        self.assertIn("stack lacks ibv_is_fork_initialized", skipped["reason"])
        self.assertEqual(skipped["stack"], "debian-11")

    def test_debian_13_runs_in_the_lab_on_its_own_kernel_and_root(self):
        done, run, by_name, ktap = check("--stack", "debian-13")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual((run["where"], run["device"]), ("lab", "rxe0"))
        self.assertTrue(run["lab"]["kernel"].startswith("6.12."))
        self.assertEqual(by_name["is_fork_initialized"]["outcome"], "PASS")
        # with a device, librdmacm's event channel opens
        self.assertEqual(by_name["rdma_event_channel"]["outcome"], "PASS")
        self.assertIn("# Subtest: api", ktap)
        self.assertEqual(run["counts"], results.counts(list(by_name.values())))


if __name__ == "__main__":
    unittest.main()


class CheckAbiSuite(unittest.TestCase):
    def test_a_debian_stack_matches_its_own_baseline(self):
        done, run, by_name, ktap = check("--suite", "abi", "--stack", "debian-13")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(set(by_name), {"applications", "providers", "build"})
        self.assertTrue(all(r["outcome"] == "PASS" for r in by_name.values()), by_name)
        self.assertIn("debian-13 (baseline) -> debian-13: OK (no changes)",
                      by_name["applications"]["message"])
        self.assertIn("# Subtest: abi", ktap)

    def test_an_older_tree_fails_against_this_hosts_release(self):
        old_tree = fetch(resolve("debian-11"), with_rootfs=False).root
        done, run, by_name, _ = check("--suite", "abi", "--stack", f"prefix:{old_tree}")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(by_name["applications"]["outcome"], "FAIL")
        self.assertEqual(by_name["providers"]["outcome"], "FAIL")
        self.assertIn("debian-12 (baseline) -> prefix:", by_name["applications"]["message"])
        self.assertIn("BREAKS", by_name["applications"]["message"])
