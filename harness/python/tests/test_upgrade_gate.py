"""The upgrade gate end to end, Debian 11 to Debian 13 in the lab: the
verdict and its reasons against facts of those packages, the report in
Chromium, and a gate without QEMU that still reports what it could do."""
import json
import os
import shutil
import unittest
from pathlib import Path

from rdmagate import browser
from runner_support import rdmagate


def reasons_text(data: dict) -> str:
    return "\n".join(f"{r['category']} {r['audience']} {r['text']}" for r in data["reasons"])


@unittest.skipUnless(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 is not installed")
class GateDebian11To13(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.done = rdmagate("upgrade", "--from", "debian-11", "--to", "debian-13", "--json",
                            timeout=1800)
        cls.data = json.loads(cls.done.stdout) if cls.done.stdout.startswith("{") else {}

    def test_verdict_and_reasons_match_the_packages(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr[-3000:])
        data = self.data
        self.assertEqual(data["verdict"], "GO WITH RISKS")
        self.assertEqual([p["status"] for p in data["phases"]], ["done"] * 5,
                         data["phases"])
        text = reasons_text(data)
        # rdma-core 33 -> 56: the private ABI node moved, i40iw was dropped,
        # the libraries of 56.1 need glibc 2.38.
        self.assertIn("IBVERBS_PRIVATE_33 -> IBVERBS_PRIVATE_34", text)
        self.assertRegex(text, r"risk applications provider i40iw: provider removed")
        self.assertIn("glibc 2.38", text)
        self.assertNotIn("breaks", [r["category"] for r in data["reasons"]])

    def test_verbs_matrix_and_binary_compatibility(self):
        verbs = self.data["verbs"]
        self.assertEqual(verbs["columns"], ["debian-11", "debian-13",
                                            "debian-11 build on debian-13"])
        for column in verbs["columns"]:
            self.assertEqual(verbs["tests"]["verbs.send"][column], "PASS")
            self.assertEqual(verbs["tests"]["verbs.rdma_read"][column], "PASS")
        # rxe on 5.10 let a write with a bad rkey through (a known defect
        # in its profile); 6.12 refuses it.
        self.assertEqual(verbs["tests"]["verbs.bad_rkey"]["debian-11"], "XFAIL")
        self.assertEqual(verbs["tests"]["verbs.bad_rkey"]["debian-13"], "PASS")

    def test_performance_measured_on_both(self):
        latency = self.data["perf"][0]
        self.assertEqual([p["size"] for p in latency["points"]], [2, 64, 1024, 4096, 65536])
        for point in latency["points"]:
            self.assertIn(point["verdict"], ("faster", "same", "slower", "inconclusive"))
            self.assertLess(point["ci"][0], point["ci"][1] + 1e-9)
        print("\n" + "\n".join(f"{p['size']:>6} B: {p['verdict']} {p['ratio']:.2f}x"
                               for p in latency["points"]))

    def test_report_renders_in_chromium_and_is_rebuilt(self):
        run_dir = Path(self.data["run_dir"])
        report = run_dir / "report.html"
        self.assertTrue(report.is_file())
        self.assertEqual(browser.screenshot(report, run_dir / "report.png"), [])
        rendered = browser.dom(report)
        self.assertEqual(rendered.count("<svg"), 2)     # latency and bandwidth
        self.assertIn("GO WITH RISKS", rendered)
        report.unlink()
        again = rdmagate("report", str(run_dir))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertTrue(report.is_file())
        self.assertTrue((run_dir / "junit.xml").is_file())


class GateWithoutQemu(unittest.TestCase):
    def test_what_could_not_run_is_said_and_reported(self):
        done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--json",
                        "--skip", "api", env={"RDMAGATE_QEMU": "/nonexistent/qemu"},
                        timeout=600)
        data = json.loads(done.stdout)
        phases = {p["name"]: p for p in data["phases"]}
        self.assertEqual(phases["abi"]["status"], "done")
        for name in ("verbs", "perf"):
            self.assertEqual(phases[name]["status"], "failed")
            self.assertIn("qemu", phases[name]["note"])
        self.assertEqual(data["verdict"], "GO WITH RISKS")
        self.assertIn("untested verbs phase verbs failed", reasons_text(data))
        report = (Path(data["run_dir"]) / "report.html").read_text()
        self.assertIn("Not tested", report)
        self.assertEqual(done.returncode, 0)
        self.assertFalse([p for p in os.listdir("/tmp") if p.startswith("rdmagate-lab-")])

    def test_unknown_stack_is_a_usage_error(self):
        done = rdmagate("upgrade", "--from", "debian-10", "--to", "debian-13")
        self.assertEqual(done.returncode, 2)
        self.assertIn("unknown stack 'debian-10'", done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
