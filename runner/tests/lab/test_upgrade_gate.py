"""The upgrade gate end to end, Debian 11 to Debian 13 in the lab: the
verdict and its reasons against facts of those packages, the report in
Chromium, and a lab VM killed mid-run (test_upgrade_gate_input has the
gates that boot no guest)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from rdmagate.pipelines import gate
from rdmagate.report import browser
from rdmagate.upgrade import record
from tests.support import HAVE_QEMU, RDMAGATE, rdmagate, upgrade_done, upgrade_reasons


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class GateDebian11To13(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.done = rdmagate("upgrade", "--from", "debian-11", "--to", "debian-13", "--json",
                            timeout=1800)
        cls.data = json.loads(cls.done.stdout) if cls.done.stdout.startswith("{") else {}
        cls.run_dir, cls.gate = upgrade_done(cls.done) if cls.data else (None, None)

    def test_verdict_and_reasons_match_the_packages(self):
        self.assertEqual(self.done.returncode, 0, self.done.stderr[-3000:])
        gate = self.gate
        self.assertEqual(gate.verdict, "GO WITH RISKS")
        self.assertEqual([p.status for p in gate.phases], ["done"] * 6,  # kabi too
                         gate.phases)
        text = upgrade_reasons(self.data)
        # rdma-core 33 -> 56: the private ABI node moved, i40iw was dropped
        # for irdma, which matches all of its devices (no risk), the
        # libraries of 56.1 need glibc 2.38.
        self.assertIn("IBVERBS_PRIVATE_33 -> IBVERBS_PRIVATE_34", text)
        self.assertNotIn("provider removed", text)
        self.assertIn(("provider i40iw", "provider replaced", "info"),
                      {(f.library, f.kind, f.severity) for f in gate.abi.findings})
        self.assertIn("glibc 2.38", text)
        self.assertNotIn("breaks", [r.category for r in gate.reasons])

    def test_the_answer_fits_a_terminal_one_line_a_cause(self):
        from rdmagate.commands.upgrade import verdict_lines
        lines = verdict_lines(self.gate, self.run_dir / "report.html")
        print("\n" + "\n".join(lines))
        self.assertLessEqual(len(lines), 20)
        why = lines[:lines.index("What to do:")]
        self.assertEqual(sum("ibnd_node" in line for line in why), 1)   # 12 findings, one cause
        self.assertEqual(len([line for line in lines if "IBVERBS_PRIVATE_34 (15 of" in line]), 1)
        self.assertTrue(lines[-1].startswith("report: "))

    def test_verbs_matrix_and_binary_compatibility(self):
        verbs = self.gate.verbs
        self.assertEqual(verbs.columns, ["debian-11", "debian-13",
                                         "debian-11 build on debian-13"])
        for column in verbs.columns:
            self.assertEqual(verbs.tests["verbs.send"][column], "PASS")
            self.assertEqual(verbs.tests["verbs.rdma_read"][column], "PASS")
        # rxe on 5.10 let a write with a bad rkey through (a known defect
        # in its profile); 6.12 refuses it.
        self.assertEqual(verbs.tests["verbs.bad_rkey"]["debian-11"], "XFAIL")
        self.assertEqual(verbs.tests["verbs.bad_rkey"]["debian-13"], "PASS")

    def test_performance_measured_on_both(self):
        latency, bandwidth, rate = self.gate.perf
        self.assertEqual([p.size for p in latency.points], [2, 64, 1024, 4096, 65536])
        for point in latency.points:
            self.assertIn(point.verdict, ("faster", "same", "slower", "inconclusive"))
            self.assertLess(point.ci[0], point.ci[1] + 1e-9)
            self.assertGreaterEqual(min(point.runs), 3)   # runs, not samples, replicate
        self.assertEqual(latency.where, "lab")
        # on the instruction clock: the software path of a 2-byte WRITE is about
        # 2.1 times longer on 6.12 than on 5.10, exactly, with where it grew
        self.assertEqual((latency.clock, latency.unit), ("instructions", "virtual us"))
        two = latency.points[0]
        self.assertEqual(two.verdict, "slower")
        self.assertTrue(1.8 < two.ratio < 2.5, two)
        # both roots carry perf (a cached root without it is built again),
        # profiled in the measuring boot: one boot a stack
        self.assertIn("functions", two.attribution, two)
        self.assertTrue(two.attribution["functions"], two)
        # user space named too (perf script outside the profile's mount
        # namespace resolved what inside it did not)
        self.assertTrue([f for f in two.attribution["functions"]
                         if not f["function"].endswith("(kernel)")
                         and not f["function"].startswith("[unknown]")], two.attribution)
        # perftest cannot decide in one guest: said once a series, not run
        self.assertEqual((bandwidth.kind, rate.kind), ("bandwidth", "rate"))
        for series in (bandwidth, rate):
            self.assertEqual((series.points, series.not_measured),
                             ([], gate.PERFTEST_ONE_GUEST))
        (perf,) = [phase for phase in self.gate.phases if phase.name == "perf"]
        self.assertIn(" in 1 and 1 boots,", perf.note)
        print(f"\nperf phase: {perf.seconds:.0f} s ({perf.note})")
        print("\n" + "\n".join(f"{p.size:>6} B: {p.verdict} {p.ratio:.2f}x"
                               for p in latency.points))

    def test_report_renders_in_chromium_and_is_rebuilt(self):
        run_dir = self.run_dir
        report = run_dir / "report.html"
        self.assertTrue(report.is_file())
        self.assertEqual(browser.screenshot(report, run_dir / "report.png"), [])
        rendered = browser.dom(report)
        # the latency sweep is plotted; perftest's series say why they are not
        plotted = sum(1 for series in self.gate.perf if series.points)
        self.assertEqual(plotted, 1)
        self.assertEqual(rendered.count("<svg"), plotted)
        self.assertGreaterEqual(rendered.count(gate.PERFTEST_ONE_GUEST), 2)   # and the phase note
        self.assertIn("Measured in the lab: soft-RoCE", rendered)
        self.assertIn("GO WITH RISKS", rendered)
        report.unlink()
        again = rdmagate("report", str(run_dir))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertTrue(report.is_file())
        self.assertTrue((run_dir / "junit.xml").is_file())


def qemu_children(pid: int) -> list[int]:
    """QEMU processes whose parent is pid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:]
        if comm.startswith("qemu-system") and int(rest.split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class GateWhenTheDeviceVanishes(unittest.TestCase):
    """The lab VM running debian-12's verbs suites is killed mid-run: its
    rxe device goes with it. What finished is kept, the rest is said not to
    have run, and the other stack's column still runs."""

    def test_partial_column_kept_and_reported(self):
        with tempfile.TemporaryDirectory() as results, tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.Popen(
                [sys.executable, str(RDMAGATE), "upgrade", "--from", "debian-12", "--to",
                 "debian-13", "--skip", "api", "--skip", "perf", "--no-consumers",
                 "--results", results, "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=dict(os.environ, TMPDIR=tmp))
            killed = []
            deadline = time.monotonic() + 900
            while not killed and proc.poll() is None and time.monotonic() < deadline:
                done = [len(p.read_text().splitlines()) for p in
                        Path(results).glob("*/runs/*debian-12/results.jsonl")]
                if done and done[0] >= 5:
                    for pid in qemu_children(proc.pid):
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                time.sleep(0.2)
            out, err = proc.communicate(timeout=900)
            self.assertTrue(killed, "the debian-12 run ended before it could be cut")
            self.assertEqual(proc.returncode, 0, err[-3000:])
            data = json.loads(out)
            gate = record.load(Path(data["run_dir"]) / "upgrade.json")
            verbs = next(p for p in gate.phases if p.name == "verbs")
            self.assertEqual(verbs.status, "failed")
            self.assertRegex(verbs.note,
                             r"^debian-12: the lab VM node1 was killed \(signal 9\) mid-run.*"
                             r"\d+ test\(s\) had finished")
            self.assertEqual(list(gate.verbs.cut_short), ["debian-12"])
            tests = gate.verbs.tests
            partial = [t for t, cells in tests.items() if "debian-12" in cells]
            whole = [t for t, cells in tests.items() if "debian-13" in cells]
            self.assertGreaterEqual(len(partial), 5)
            self.assertLess(len(partial), len(whole))
            self.assertGreater(len(whole), 100)
            # the harness writes its coverage counts after each test
            self.assertGreater(gate.coverage["debian-12"]["libibverbs"]["called"], 0)
            self.assertEqual(gate.verdict, "GO WITH RISKS")
            self.assertIn("untested verbs phase verbs failed", upgrade_reasons(data))
            report = (Path(data["run_dir"]) / "report.html").read_text()
            self.assertIn("debian-12 stopped early", report)
            self.assertEqual(qemu_children(proc.pid), [])
            self.assertEqual(os.listdir(tmp), [])


if __name__ == "__main__":
    unittest.main()
