"""rdmagate check end to end on the host: build, plan, run, collect."""
import json
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from rdmagate.outputs import results
from tests.support import rdmagate


class CheckOnHost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.done = rdmagate("check", "--suite", "api", "--results", cls.tmp.name)
        runs = list(Path(cls.tmp.name).iterdir())
        cls.run_dir = runs[0] if len(runs) == 1 else None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_one_run_directory_with_every_file(self):
        self.assertIsNotNone(self.run_dir, self.done.stderr)
        for name in ("plan.json", "run.json", "results.jsonl", "junit.xml", "ktap.log"):
            self.assertTrue((self.run_dir / name).is_file(), name)

    def test_exit_code_matches_the_results(self):
        records = results.read(self.run_dir / "results.jsonl")
        self.assertGreater(len(records), 0)
        self.assertEqual(self.done.returncode, results.exit_code(records), self.done.stderr)
        run = json.loads((self.run_dir / "run.json").read_text())
        self.assertEqual(run["exit_code"], self.done.returncode)
        self.assertEqual(run["counts"], results.counts(records))
        self.assertIsNotNone(run["finished"])
        self.assertNotEqual(run["git_revision"], "")

    def test_every_result_names_stack_device_and_suite(self):
        for record in results.read(self.run_dir / "results.jsonl"):
            self.assertEqual((record.stack, record.device, record.suite),
                             ("host", "none", "api"))
            if record.outcome != "PASS":
                self.assertTrue(record.why, record)

    def test_junit_and_ktap_agree_with_the_results(self):
        records = results.read(self.run_dir / "results.jsonl")
        cases = ET.parse(self.run_dir / "junit.xml").getroot().findall(".//testcase")
        self.assertEqual(len(cases), len(records))
        ktap = (self.run_dir / "ktap.log").read_text()
        self.assertTrue(ktap.startswith("KTAP version 1"))
        for record in records:
            self.assertIn(f" {record.name}", ktap)

    def test_summary_names_the_run_directory(self):
        self.assertIn(str(self.run_dir), self.done.stdout)


if __name__ == "__main__":
    unittest.main()
