"""`profile capture` does not bless failures: a FAIL stops it with the
failures listed for review and nothing written; a known defect a person
wrote (reason and failure id) is kept while the test fails exactly so; a
different failure of that test stops the capture again. And a device no
profile exists for is not judged: the same FAIL is recorded, exit 0. The
FAIL is real: a stack whose header renumbers the work completion statuses
(an enumerator value changed), so api.wc_status_str finds names missing."""
import io
import json
import shutil
import tempfile
import unittest
from pathlib import Path

import yaml

from rdmagate import profiles, stacks, suites
from rdmagate.paths import build_dir
from rdmagate.harness.run import SuiteRun, run_suites
from rdmagate.progress import Progress
from rdmagate.targets import HostDevice
from tests.support import HOST_LIBDIR as LIBDIR, copy_host_stack, rdmagate

FAILURE = 'text != "unknown"'


def renumbered_stack(root: Path) -> None:
    verbs = copy_host_stack(root) / "infiniband" / "verbs.h"
    text = verbs.read_text()
    assert "\tIBV_WC_GENERAL_ERR,\n" in text
    verbs.write_text(text.replace("\tIBV_WC_GENERAL_ERR,\n", "\tIBV_WC_GENERAL_ERR = 40,\n"))


@unittest.skipUnless((LIBDIR / "libibverbs.so").exists(), "the host has no libibverbs-dev")
class CaptureDoesNotBlessFailures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack_tmp = Path(tempfile.mkdtemp())
        renumbered_stack(cls.stack_tmp / "stack")
        cls.stack = f"prefix:{cls.stack_tmp / 'stack'}"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(build_dir(cls.stack), ignore_errors=True)
        shutil.rmtree(cls.stack_tmp, ignore_errors=True)

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.out = self.tmp / "none-test.yaml"

    def capture(self):
        return rdmagate("profile", "capture", "--stack", self.stack, "--suite", "api",
                        "--out", str(self.out), "--results", str(self.tmp / "results"),
                        timeout=900)

    def known(self, failure: str):
        self.out.write_text(yaml.safe_dump({"expect": {"api.wc_status_str": {
            "outcome": "FAIL", "failure": failure, "note": "kept",
            "reason": "this stack renumbered enum ibv_wc_status past IBV_WC_GENERAL_ERR"}}}))

    def test_a_fail_stops_the_capture_until_reviewed(self):
        done = self.capture()
        self.assertEqual(done.returncode, 1, done.stderr[-2000:])
        self.assertIn(f"FAIL api.wc_status_str: failure '{FAILURE}'", done.stdout)
        self.assertIn("nothing written", done.stderr)
        self.assertIn('api.wc_status_str: {outcome: FAIL, failure: "text != \\"unknown\\""',
                      done.stderr)
        self.assertFalse(self.out.exists())
        # reviewed: the person wrote the known defect; the capture keeps it
        self.known(FAILURE)
        done = self.capture()
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        written = yaml.safe_load(self.out.read_text())["expect"]["api.wc_status_str"]
        self.assertEqual((written["outcome"], written["failure"], written["note"]),
                         ("FAIL", FAILURE, "kept"))
        self.assertIn("renumbered", written["reason"])
        self.assertIn("api.wc_status_str", done.stderr)   # said, as a known defect
        # a different failure of the same test is not that defect
        self.known("text != NULL")
        done = self.capture()
        self.assertEqual(done.returncode, 1, done.stderr[-2000:])
        self.assertIn(f"FAIL api.wc_status_str: failure '{FAILURE}'", done.stdout)
        self.assertEqual(yaml.safe_load(self.out.read_text())["expect"]["api.wc_status_str"]
                         ["failure"], "text != NULL")   # left as it was

    def test_a_device_with_no_profile_is_recorded_not_judged(self):
        said = io.StringIO()
        unjudged = profiles.load_for_device("mlx5-part4125-fw22.36.1010-6.1", said.write,
                                            self.tmp)
        stack = stacks.resolve(self.stack)
        done = run_suites(SuiteRun(stack, stacks.fetch(stack), suites.select(["api"]),
                                   HostDevice("none", "test"), unjudged,
                                   results_dir=str(self.tmp / "results")),
                          Progress(said, enabled=False))
        outcomes = {r.test: r for r in done.finished}
        self.assertEqual(outcomes["api.wc_status_str"].outcome, "FAIL")   # recorded as it was
        self.assertEqual(outcomes["api.wc_status_str"].failure, FAILURE)
        self.assertEqual(done.exit_code, 0)   # no crash, hang or data check failed
        run = json.loads((done.run_dir / "run.json").read_text())
        self.assertEqual((run["judged"], run["exit_code"]), (False, 0))
        self.assertIn("not judged", said.getvalue())
        self.assertIn("rdmagate profile capture --stack", said.getvalue())

    def test_a_known_defect_without_its_failure_is_refused_before_running(self):
        self.out.write_text("expect:\n  api.wc_status_str: {outcome: FAIL, reason: r}\n")
        done = self.capture()
        self.assertEqual(done.returncode, 2, done.stderr[-2000:])
        self.assertIn(f"{self.out}: field expect.api.wc_status_str", done.stderr)
        self.assertNotIn("Traceback", done.stderr)


if __name__ == "__main__":
    unittest.main()
