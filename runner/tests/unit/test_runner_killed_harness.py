"""A harness killed mid-run: finished results survive, junit.xml is rebuilt."""
import json
import signal
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from rdmagate.harness import driver
from rdmagate.outputs import plan, results
from tests.support import BUILD_DIR, BUILT, rdmagate

SELFTEST = BUILD_DIR / "harness" / "tests" / "rdmagate-harness-selftest"


@unittest.skipUnless(BUILT, "run through ctest, which builds the selftest harness")
class KilledHarness(unittest.TestCase):
    def test_sigkill_mid_run_keeps_finished_results_and_junit_is_rebuilt(self):
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = Path(tmp)
            plan.write(plan.build("host", "none", ["selftest"],
                                  ["selftest.pass*", "selftest.segfault", "selftest.sleep_long"]),
                       run_dir / "plan.json")
            proc = subprocess.Popen(driver.command(SELFTEST, run_dir),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            jsonl = run_dir / "results.jsonl"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = [json.loads(line) for line in jsonl.read_text().splitlines()] \
                    if jsonl.exists() else []
                if any(r["test"] == "selftest.segfault" for r in done):
                    break
                time.sleep(0.1)
            time.sleep(0.5)  # now inside sleep_long
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.assertFalse((run_dir / "junit.xml").exists())

            records = driver.write_junit(run_dir)
            names = [r.test for r in records]
            self.assertIn("selftest.segfault", names)
            self.assertNotIn("selftest.sleep_long", names)
            crash = next(r for r in records if r.test == "selftest.segfault")
            self.assertEqual((crash.outcome, crash.signal), ("CRASH", 11))
            cases = ET.parse(run_dir / "junit.xml").getroot().findall(".//testcase")
            self.assertEqual(len(cases), len(records))

            # and `rdmagate report` does the same from the command line
            (run_dir / "junit.xml").unlink()
            done = rdmagate("report", str(run_dir))
            self.assertEqual(done.returncode, results.exit_code(records), done.stderr)
            self.assertTrue((run_dir / "junit.xml").exists())


if __name__ == "__main__":
    unittest.main()
