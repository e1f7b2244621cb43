"""Upgrade gates that boot no guest: an archive that cannot be reached, no
QEMU, bad stacks and options. What could not run is said, and the report
is written all the same."""
import json
import os
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from rdmagate.stacks.fetch import stack_cache
from tests.support import UNREACHABLE_MIRROR, rdmagate, upgrade_reasons


class GateBadInput(unittest.TestCase):
    def test_unreachable_archive(self):
        """debian-12 is in the cache, debian-13 is not and the archive cannot
        be reached: the gate says so, runs nothing on one stack alone, and
        still writes its report."""
        old = resolve("debian-12")
        fetch(old)   # into the shared cache
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as results:
            entry = stack_cache(old, Path(cache))
            entry.parent.mkdir(parents=True)
            entry.symlink_to(stack_cache(old))
            done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--json",
                            "--results", results,
                            env={"RDMAGATE_CACHE": cache, "RDMAGATE_MIRROR": UNREACHABLE_MIRROR})
            self.assertEqual(done.returncode, 3, done.stderr[-2000:])
            data = json.loads(done.stdout)
            phases = {p["name"]: p for p in data["phases"]}
            self.assertEqual(phases["fetch"]["status"], "failed")
            self.assertIn("cannot read the trixie package lists", phases["fetch"]["note"])
            self.assertEqual(data["from"]["rdma_core"], old.rdma_core)
            for name in ("abi", "api", "verbs", "perf"):
                self.assertEqual(phases[name]["status"], "not run")
                self.assertIn("could not be fetched", phases[name]["note"])
            self.assertIn("upgrade: phase fetch failed", done.stderr)
            report = (Path(data["run_dir"]) / "report.html").read_text()
            self.assertIn("cannot read the trixie package lists", report)
            self.assertTrue((Path(data["run_dir"]) / "junit.xml").is_file())
            self.assertFalse(list(Path(cache).glob("stacks/debian-13/*/root")))

    def test_what_could_not_run_without_qemu_is_said_and_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--json",
                            "--skip", "api",
                            env={"RDMAGATE_QEMU": "/nonexistent/qemu", "TMPDIR": tmp},
                            timeout=600)
            leftovers = os.listdir(tmp)
        data = json.loads(done.stdout)
        phases = {p["name"]: p for p in data["phases"]}
        self.assertEqual(phases["abi"]["status"], "done")
        for name in ("verbs", "perf"):
            self.assertEqual(phases[name]["status"], "failed")
            self.assertIn("qemu", phases[name]["note"])
        self.assertEqual(data["verdict"], "GO WITH RISKS")
        self.assertIn("untested verbs phase verbs failed", upgrade_reasons(data))
        report = (Path(data["run_dir"]) / "report.html").read_text()
        self.assertIn("Not tested", report)
        self.assertEqual(done.returncode, 0)
        self.assertEqual(leftovers, [])

    def test_a_gate_that_tested_nothing_says_not_tested_and_exits_3(self):
        # with every phase skipped it said GO WITH RISKS (exit 3); with only
        # fetch run, GO WITH RISKS and exit 0
        for stack in ("debian-12", "debian-13"):
            fetch(resolve(stack), with_rootfs=False)
        testing = ("abi", "kabi", "api", "verbs", "perf")
        for skipped in (("fetch", *testing), testing):
            with self.subTest(skipped=skipped), tempfile.TemporaryDirectory() as results:
                words = [w for phase in skipped for w in ("--skip", phase)]
                done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--json",
                                "--results", results, *words)
                self.assertEqual(done.returncode, 3, done.stderr[-2000:])
                data = json.loads(done.stdout)
                self.assertEqual(data["verdict"], "NOT TESTED")
                phases = {p["name"]: p["status"] for p in data["phases"]}
                self.assertEqual(phases["fetch"], "not run" if "fetch" in skipped else "done")
                self.assertIn("NOT TESTED", (Path(data["run_dir"]) / "report.html").read_text())
                junit = (Path(data["run_dir"]) / "junit.xml").read_text()
                self.assertRegex(junit, r'name="verdict"[^>]*>\s*<error message="NOT TESTED"')

    def test_unknown_stack_is_a_usage_error(self):
        done = rdmagate("upgrade", "--from", "debian-10", "--to", "debian-13")
        self.assertEqual(done.returncode, 2)
        self.assertIn("unknown stack 'debian-10'", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1)


class TwoNodesInput(unittest.TestCase):
    def test_two_nodes_with_a_device_is_a_usage_error(self):
        done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--nodes", "2",
                        "--device", "mlx5_0")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--nodes 2 is for the lab", done.stderr)


if __name__ == "__main__":
    unittest.main()
