"""The gate's kabi phase: upgrade --modules on the real debian-12 and
debian-13 kernels (the other slow phases skipped), its verdict rules and its
report section."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.kabi import compare, lab, predict
from rdmagate.pipelines.kabi import exit_code
from rdmagate.report import page
from rdmagate.upgrade import verdict
from tests import kabi_support
from tests.support import rdmagate, upgrade_of

SKIP = ("--skip", "api", "--skip", "verbs", "--skip", "perf", "--no-consumers")


class KabiPhase(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-kabi-gate-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def gate(self, *args):
        done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", *SKIP, "--json",
                        "--results", str(self.tmp), *args)
        self.assertTrue(done.stdout.startswith("{"), done.stderr)
        return done.returncode, json.loads(done.stdout)

    def test_a_module_that_would_not_load_is_no_go(self):
        ko = kabi_support.test_module("debian-12")
        code, data = self.gate("--modules", str(ko))
        self.assertEqual((code, data["verdict"]), (1, "NO-GO"))
        first = data["reasons"][0]
        self.assertEqual((first["category"], first["audience"]), ("breaks", "kernel modules"))
        self.assertIn("rdmagate_kabi_test", first["text"])
        self.assertIn(".gnu.linkonce.this_module section size must match", first["text"])
        phase = next(p for p in data["phases"] if p["name"] == "kabi")
        self.assertEqual(phase["status"], "done")
        run_dir = Path(data["run_dir"])
        self.assertTrue((run_dir / "kabi.json").is_file())
        page = (run_dir / "report.html").read_text()
        self.assertIn("<summary>Kernel modules</summary>", page)
        self.assertIn("struct module size", page)

    def test_without_modules_the_changed_interface_is_a_risk(self):
        code, data = self.gate()
        self.assertEqual((code, data["verdict"]), (0, "GO WITH RISKS"))
        risks = [r["text"] for r in data["reasons"] if r["audience"] == "kernel modules"]
        self.assertEqual(len(risks), 1)
        self.assertIn("710 CRC changed, 39 export removed of 820 exports", risks[0])
        self.assertIn("must be rebuilt", risks[0])

    def test_bad_module_is_a_usage_error_before_anything_runs(self):
        bad = self.tmp / "bad.ko"
        bad.write_text("no\n")
        done = rdmagate("upgrade", "--from", "debian-12", "--to", "debian-13", "--modules",
                        str(bad), "--results", str(self.tmp / "r"))
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"{bad}: not a kernel module", done.stderr.strip().splitlines()[-1])
        self.assertFalse((self.tmp / "r").exists())


class Rules(unittest.TestCase):
    KABI = {"releases": ["6.1.0-50-amd64", "6.1.0-50-amd64"], "given": True,
            "summary": {"exports_compared": 820, "by_kind": {}}, "kernel": [],
            "verdict": {"verdict": "OK", "counts": {}},
            "modules": [{"module": "m", "path": "/x/m.ko", "kernel": "6.1.0-50-amd64",
                         "loads": True, "check": "", "messages": [], "error": 0, "insmod": ""}],
            "proofs": [{"module": "m", "kernel": "6.1.0-50-amd64", "loaded": False,
                        "agrees": False, "insmod": "insmod: x",
                        "kernel_lines": ["m: Unknown symbol f (err -2)"]}]}

    def data(self, kabi: dict):
        return upgrade_of({"run_id": "r", "started": "s", "host": "h", "from": {"name": "a"},
                           "to": {"name": "b"}, "compat_column": "a build on b", "phases": [],
                           "kabi": kabi})

    def test_modules_that_load_on_the_same_kernel_are_go(self):
        self.assertEqual(verdict.decide(self.data(dict(self.KABI, proofs=[]))), ("GO", []))

    def test_a_lab_load_that_disagrees_is_never_hidden(self):
        result, reasons = verdict.decide(self.data(self.KABI))
        self.assertEqual(result, "GO WITH RISKS")
        self.assertEqual(reasons[0].category, "untested")
        self.assertIn("disagrees with rdmagate's prediction", reasons[0].text)
        self.assertIn("refused (DISAGREES)", page.render(self.data(self.KABI)))

    def test_kabi_exit_codes(self):
        report = compare.KabiReport(None, None, "rdma", [])
        self.assertEqual(exit_code(report), 0)
        report.modules = [predict.Prediction("m", "/x/m.ko", "6.1", True, "")]
        self.assertEqual(exit_code(report), 0)
        report.modules.append(predict.Prediction("n", "/x/n.ko", "6.1", False, "vermagic"))
        self.assertEqual(exit_code(report), 1)      # a module would not load: NO-GO
        report.proofs = [lab.Proof("m", "6.1", False, False, "")]
        self.assertEqual(exit_code(report), 3)      # rdmagate was wrong: never hidden

    def test_each_module_gets_its_own_proof_in_the_report(self):
        # Two files of one module name (a build for A and one for B): told apart.
        rebuilt = dict(self.KABI["modules"][0], path="/y/m.ko")
        kabi = dict(self.KABI, modules=[self.KABI["modules"][0], rebuilt],
                    proofs=[dict(self.KABI["proofs"][0], loaded=True, agrees=True),
                            self.KABI["proofs"][0]])
        html = page.render(self.data(kabi))
        row_x = html.split("/x/m.ko", 1)[1].split("</tr>", 1)[0]
        row_y = html.split("/y/m.ko", 1)[1].split("</tr>", 1)[0]
        self.assertIn(">loaded<", row_x)
        self.assertIn("refused (DISAGREES)", row_y)


if __name__ == "__main__":
    unittest.main()
