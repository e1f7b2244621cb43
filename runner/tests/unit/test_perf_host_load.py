"""The host's load when perf figures were taken (perf/machine.py host_load):
kept by each boot, recorded in a baseline and shown, warned of when a lab
baseline is recorded on a loaded host, and a comparison against such a
baseline says so and never calls the stack faster (the false alarm a
loaded recording gave). Baselines without it keep loading."""
import io
import json
import random
import unittest
from types import SimpleNamespace
from unittest import mock

from rdmagate.errors import UsageError
from rdmagate.perf import baseline, calibrate, history, machine, suite
from rdmagate.pipelines import baseline_record
from rdmagate.progress import Progress
from tests.perf_support import (DEVICE, LAB, Target, fake_boot, own_baselines, runs,
                                without_boot_effect, write_baseline)
from tests.support import rdmagate

STACK = SimpleNamespace(name="debian-12", kind="debian", rdma_core="44.0-2")
SLOW = "the baseline was recorded at host load 1.6 per core (over 1.0: its figures are " \
       "slow; record it again on a quiet machine)"


class HostLoad(unittest.TestCase):
    def setUp(self):
        self.root, self.baselines = own_baselines(self)
        without_boot_effect(self)   # a rule on runs of one boot

    def measure(self, loads, boots=2):
        """A real Session.boot at a target that leaves planned outputs; the
        host's load per core read as `loads`, one after another."""
        run_dir = self.root / f"run{len(list(self.root.glob('run*')))}"
        run_dir.mkdir()
        session = suite.Session(STACK, SimpleNamespace(root=self.root), Target(), run_dir)
        with mock.patch.object(suite.build, "build_perf",
                               return_value=self.root / "build" / "bin" / "rdmagate-perf"), \
                mock.patch.object(machine, "host_load", side_effect=loads):
            for _ in range(boots):
                session.boot(["write_lat-2"], 2)
        return session

    def test_the_guests_own_cpus_are_not_load(self):
        # after a boot the 1-minute average still holds the guest's busy vCPUs
        with mock.patch.object(machine.os, "getloadavg", return_value=(3.0, 0, 0)), \
                mock.patch.object(machine.os, "cpu_count", return_value=2):
            self.assertEqual((machine.host_load(), machine.host_load(2), machine.host_load(4)),
                             (1.5, 0.5, 0.0))
        calls = []
        self.measure(lambda own=0: calls.append(own) or 0.1)
        # before the first boot all of it; after each, less the guest's 2 CPUs
        self.assertEqual(calls, [0, 2, 2])

    def test_each_boot_keeps_the_highest_load_before_and_after(self):
        session = self.measure([0.4, 1.7, 0.9])   # before boot 1, after it, after boot 2
        self.assertEqual((session.machine["host_load"], session.runs("write_lat-2")), (1.7, 4))
        self.assertEqual(self.measure([1.9, 0.3, 0.5]).machine["host_load"], 1.9)
        # not a fact of the machine: the same history, no difference
        quiet = dict(session.machine, host_load=0.1)
        self.assertEqual(history.ident(quiet), history.ident(session.machine))
        self.assertEqual(machine.differences(quiet, session.machine), [])

    def baseline_at(self, load, facts=LAB) -> dict:
        facts = dict(facts) if load is None else dict(facts, host_load=load)
        return baseline.load(write_baseline(self.baselines, "rxe-6.1", "debian-12",
                                            {"write_lat-2": 20000}, facts=facts))

    def verdict(self, stored, factor, facts=LAB):
        now = runs(random.Random(5), 20000 * factor, 8)
        cal = stored["calibration"]["runs"]
        return baseline.compare(stored, "write_lat-2", now, 0.1, facts, cal)

    def test_a_faster_verdict_against_a_loaded_baseline_is_inconclusive_and_says_why(self):
        loaded = self.baseline_at(1.6)
        cmp = self.verdict(loaded, 0.7)
        self.assertEqual((cmp.verdict, cmp.note), ("inconclusive",
                                                   f"faster than a slow baseline: {SLOW}"))
        self.assertLess(cmp.ratio, 0.75)
        self.assertTrue(calibrate.settled(cmp))   # more runs would only make it surer
        for factor, said in ((1.0, "same"), (1.5, "slower")):
            cmp = self.verdict(loaded, factor)
            self.assertEqual((cmp.verdict, cmp.note), (said, SLOW))
        # quiet, not recorded (older baselines) or on a device: the plain verdict
        for stored, facts in ((self.baseline_at(0.8), LAB), (self.baseline_at(None), LAB),
                              (self.baseline_at(3.0, DEVICE), DEVICE)):
            cmp = self.verdict(stored, 0.7, facts)
            self.assertEqual((cmp.verdict, cmp.note), ("faster", ""))

    def test_a_slower_verdict_measured_on_a_loaded_host_is_inconclusive_and_says_why(self):
        quiet = self.baseline_at(0.5)
        busy = dict(LAB, host_load=1.6)
        said = ("this run measured at host load 1.6 per core (over 1.0: its figures are slow; "
                "run the check again on a quiet machine)")
        cmp = self.verdict(quiet, 1.5, busy)
        self.assertEqual((cmp.verdict, cmp.note), ("inconclusive",
                                                   f"slower on a loaded host: {said}"))
        self.assertTrue(calibrate.settled(cmp))   # more runs on the same load would not help
        # a faster or same one stands, with the note; quiet, the plain verdict
        for factor, verdict in ((0.7, "faster"), (1.0, "same")):
            cmp = self.verdict(quiet, factor, busy)
            self.assertEqual((cmp.verdict, cmp.note), (verdict, said))
        self.assertEqual(self.verdict(quiet, 1.5, dict(LAB, host_load=0.9)).verdict, "slower")
        # against the history of a node, the same rule
        entry = {"machine": LAB, "calibration": [], "measurements": {"write_lat-2": {
            "medians": runs(random.Random(6), 20000, 8), "higher_is_better": False}}}
        found = history.compare([entry], "write_lat-2", runs(random.Random(5), 30000, 8), 0.1,
                                busy, [])
        self.assertEqual((found.verdict, found.note), ("inconclusive",
                                                       f"slower on a loaded host: {said}"))
        found = history.compare([entry], "write_lat-2", runs(random.Random(5), 30000, 8), 0.1,
                                LAB, [])
        self.assertEqual(found.verdict, "slower")

    def test_check_against_a_loaded_baseline_skips_faster_after_one_round(self):
        # all twelve: a round then has 4 runs of each, and an unsettled one would get more
        every = {name: 30000 for name in suite.native.MEASUREMENTS}
        write_baseline(self.baselines, "rxe-6.1", "debian-12", every,
                       facts=dict(LAB, host_load=1.6))
        run_dir = self.root / "results" / "run1"
        run_dir.mkdir(parents=True)
        with mock.patch.object(suite.Session, "boot", fake_boot(
                dict(every, **{"write_lat-2": 20000, "send_lat-2": 45000}))):
            lines = {r.name: r for r in suite.run(STACK, None, Target(), "rxe-6.1", None,
                                                  run_dir)}
        self.assertEqual((lines["write_lat-2"].outcome, lines["write_lat-2"].reason),
                         ("SKIP", "inconclusive"))
        self.assertRegex(lines["write_lat-2"].message, r"^inconclusive: 0\.6\d\dx the baseline "
                         rf".*, lab\); faster than a slow baseline: {SLOW[:40]}")
        self.assertEqual(lines["send_lat-2"].outcome, "FAIL")   # slower still counts
        self.assertTrue(lines["send_lat-2"].message.endswith(SLOW))
        self.assertEqual(json.loads((run_dir / "perf.json").read_text())["boots"], 1)

    def record(self, load) -> str:
        said = io.StringIO()
        with mock.patch.object(baseline_record.stacks, "resolve", return_value=STACK), \
                mock.patch.object(baseline_record.stacks, "fetch", return_value=SimpleNamespace(
                    root=self.root, needs_rootfs=False)), \
                mock.patch.object(baseline_record.targets, "choose", return_value=Target()), \
                mock.patch.object(suite.build, "build_perf",
                                  return_value=self.root / "build" / "bin" / "rdmagate-perf"), \
                mock.patch.object(machine, "host_load", return_value=load):
            done = baseline_record._record_perf(baseline_record.BaselineRequest(
                "debian-12", "perf", use_lab=True, boots=1), Progress(said, enabled=False))
        self.assertEqual(done.path, self.baselines / "rxe-6.1" / "debian-12.json")
        return said.getvalue()

    def test_recording_on_a_loaded_host_warns_and_show_says_the_load(self):
        said = self.record(1.6)
        self.assertIn("perf baseline: warning: recorded at host load 1.60 per core (over 1.0): "
                      "the figures will be slow; record it again on a quiet machine\n", said)
        path = self.baselines / "rxe-6.1" / "debian-12.json"
        lines = baseline.summary(baseline.load(path))
        self.assertEqual(lines[2], "host load: 1.60 per core (over 1.0: the figures are slow; "
                         "record it again on a quiet machine)")
        self.assertNotIn("warning", self.record(0.3))
        self.assertEqual(baseline.summary(baseline.load(path))[2], "host load: 0.30 per core")
        self.assertEqual(baseline.summary(self.baseline_at(None))[2], "host load: not recorded")

    def test_a_host_load_that_is_not_a_number_is_refused_with_exit_2(self):
        for bad in ("1.6", True, -1, None):
            path = write_baseline(self.baselines, "rxe-6.1", "debian-12", {"write_lat-2": 20000},
                                  facts=dict(LAB, host_load=bad))
            if bad is None:   # null: not recorded
                self.assertNotIn("host_load", machine.FINGERPRINT)
                self.assertEqual(baseline.summary(baseline.load(path))[2],
                                 "host load: not recorded")
                continue
            with self.subTest(bad=bad), self.assertRaisesRegex(
                    UsageError, r"debian-12.json: field machine.host_load: must be a load per "
                    r"core \(a number\), not "):
                baseline.load(path)
        path.write_text(path.read_text().replace('"host_load": null', '"host_load": "high"'))
        done = rdmagate("baseline", "show", str(path))
        self.assertEqual((done.returncode, done.stdout), (2, ""))
        self.assertRegex(done.stderr, r'^rdmagate: error: .*debian-12.json: field '
                         r'machine.host_load: must be a load per core \(a number\), not "high"\n$')


if __name__ == "__main__":
    unittest.main()
