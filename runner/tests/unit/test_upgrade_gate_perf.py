"""The gate's perf phase without a guest (pipelines/gate.py perf(), run and
kept by the gate's run_phase): the targets, Session.boot and perftest's
sweep replaced by planned figures (tests/perf_support.py), the rest real:
the budget, the adaptive rounds, the series, the comparison with B's
baseline and the verdict's ranking of lab against device findings."""
import io
import threading
import time
import unittest
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from rdmagate.perf import native, perftest_run, suite
from rdmagate.progress import Progress
from rdmagate.abi.findings import Finding
from rdmagate.pipelines import gate
from rdmagate.report import page
from rdmagate.upgrade import record
from tests.perf_support import (DEVICE, LAB, Target, fake_boot, fake_sweep, own_baselines,
                                without_boot_effect, write_baseline)

OLD, NEW = "debian-12", "debian-13"
SAME = {name: 20000 for name in native.SWEEP}
BW = {64: 2.0, 4096: 100.0, 65536: 400.0}



def fake_profile(session, name):
    """A profile of a name the meeting chose: rxe_requester's share grown on
    the new stack; none at all for the old one's write_lat-64."""
    grown = session.stack.name == NEW
    return {"why": "unattributed: no perf (linux-perf) in this root"} \
        if name == "write_lat-64" and not grown else {"shares": {
            "rxe_requester (kernel)": 30.0 if grown else 10.0,
            "ibv_poll_cq (libibverbs.so.1)": 5.0, "memcpy (libc.so.6)": 4.0}}


class GatePerfPhase(unittest.TestCase):
    def setUp(self):
        self.root, self.baselines = own_baselines(self)
        without_boot_effect(self)   # the ranking of verdicts on runs of one boot

    def perf(self, native_plan: dict, bw_plan: dict | None = None, facts=LAB,
             budget_s: float = gate.PERF_BUDGET_S):
        """The phase run on planned figures; (the gate, perftest's calls, its note)."""
        run_dir = self.root / "run"
        run_dir.mkdir()
        the_gate = gate.Gate(gate.UpgradeRequest(OLD, NEW, None if facts is LAB else "rxe0",
                                                 facts is LAB),
                             run_dir, Progress(io.StringIO(), enabled=False))
        the_gate.stacks = {key: (SimpleNamespace(name=name, kind="debian"), None)
                           for key, name in (("from", OLD), ("to", NEW))}
        # this phase only: the others are done with nothing found
        for phase in the_gate.upgrade.phases:
            phase.status, phase.note = "done", ""
        calls: list = []
        target = lambda key, nodes=1: Target(  # noqa: E731
            facts, "6.12.38+deb13-amd64", the_gate.stacks[key][0].name)
        with mock.patch.object(gate.Gate, "_target", staticmethod(target)), \
                mock.patch.object(suite.Session, "boot", fake_boot(native_plan,
                                                                   profile=fake_profile)), \
                mock.patch.object(perftest_run, "run_sweep", fake_sweep(
                    bw_plan or {OLD: BW, NEW: BW}, calls)), \
                mock.patch.object(gate, "PERF_BUDGET_S", budget_s):
            the_gate.run_phase("perf")
        phase = next(p for p in the_gate.upgrade.phases if p.name == "perf")
        self.assertEqual(phase.status, "done", phase.note)
        return the_gate, calls, phase.note

    def test_perftest_runs_even_when_the_budget_is_spent(self):
        noisy = {name: (20000, 0.3) for name in native.SWEEP}   # would want more rounds
        the_gate, calls, note = self.perf({OLD: noisy, NEW: noisy}, budget_s=0.0)
        self.assertEqual(calls, [f"perftest-{OLD}", f"perftest-{NEW}"])
        self.assertRegex(note, r"budget 0 s, .* perftest on debian-12 \(1 boot, 9 runs\) .*"
                         r"perftest on debian-13 .* round 1 \(2 boot\(s\), 3 runs of 5 "
                         r"measurement\(s\)\) over budget .* round 2 .* not started")
        latency, bw, _ = the_gate.upgrade.perf
        self.assertEqual([(p.size, p.runs) for p in bw.points],
                         [(64, [3, 3]), (4096, [3, 3]), (65536, [3, 3])])
        self.assertEqual({p.runs[0] for p in latency.points}, {3})

    def test_on_the_instruction_clock_one_boot_a_side_decides_exactly(self):
        exact_lab = dict(LAB, guest_cpus=1, clock={
            "kind": "instructions", "qemu": "7.2.22", "cpu_model": "Skylake-Client-v4",
            "icount": "shift=0,sleep=off"})
        plain = {name: (20000, 0.0) for name in native.SWEEP}
        longer = dict(plain, **{"write_lat-2": (42600, 0.0)})   # debian-11 to -13 was 2.13x
        the_gate, calls, note = self.perf({OLD: plain, NEW: longer}, facts=exact_lab)
        self.assertRegex(note, r"in 1 and 1 boots, threshold 10%, lab")
        # both sides in one round, their guests at once; perftest not run in one guest
        self.assertRegex(note, r"round 1 \(2 boot\(s\) at once, 3 runs of 5 measurement\(s\)\)")
        self.assertEqual(calls, [])
        for series in the_gate.upgrade.perf[1:]:
            self.assertEqual((series.points, series.not_measured),
                             ([], gate.PERFTEST_ONE_GUEST))
        lat = the_gate.upgrade.perf[0]
        self.assertEqual((lat.clock, lat.unit), ("instructions", "virtual us"))
        self.assertIn("whole software path, library + provider + kernel rxe, in guest "
                      "instructions; not a device latency", lat.unit_meaning)
        self.assertEqual([(p.size, p.verdict) for p in lat.points],
                         [(2, "slower"), (64, "same"), (1024, "same"), (4096, "same"),
                          (65536, "same")])
        self.assertAlmostEqual(lat.points[0].ratio, 2.13, places=2)
        self.assertLess(max(lat.points[0].spread), 0.005)
        self.assertEqual(lat.points[0].note, "")
        # the slower point says where the path grew (profiled for slower points only)
        self.assertEqual(lat.points[0].attribution, {"functions": [
            {"function": "rxe_requester (kernel)", "before": 10.0, "after": 30.0}]})
        self.assertIsNone(lat.points[1].attribution)
        self.assertRegex(the_gate.upgrade.reasons[0].text, r" at 2 B: 2\.13x the time on the "
                         r"new stack \(virtual time on the instruction clock, run spread "
                         r"0\.\d\d%/0\.\d\d%\), in the lab")
        # the report shows the unit, the spreads and the attribution next to the point
        html = page.render(the_gate.upgrade)
        self.assertIn("Unit: virtual us (instruction clock): the whole software path", html)
        self.assertIn("<th>run spread A/B</th>", html)
        self.assertIn("Where the path got longer at 2 (2.13x)", html)
        self.assertIn("<td>rxe_requester (kernel)</td><td>10.0%</td><td>30.0%</td>", html)
        self.assertIn(f"<p>{gate.PERFTEST_ONE_GUEST}</p>", html)
        # or why it cannot
        longer_64 = dict(longer, **{"write_lat-64": (30000, 0.0)})
        self.root, self.baselines = own_baselines(self)
        the_gate, _, _ = self.perf({OLD: plain, NEW: longer_64}, facts=exact_lab)
        self.assertEqual(the_gate.upgrade.perf[0].points[1].attribution,
                         {"why": "unattributed: no perf (linux-perf) in this root"})

    def test_a_failed_bandwidth_job_is_unmeasured_with_its_reason(self):
        failed = {**BW, 4096: "the client exited with 1"}
        the_gate, _, _ = self.perf({OLD: SAME, NEW: SAME}, {OLD: BW, NEW: failed})
        _, bw, _ = the_gate.upgrade.perf
        self.assertEqual([p.size for p in bw.points], [64, 65536])
        self.assertEqual(bw.unmeasured, [record.Gap(NEW, 4096, "the client exited with 1")] * 3)
        self.assertEqual(the_gate.upgrade.verdict, "GO WITH RISKS")
        self.assertEqual({(r.category, r.text) for r in the_gate.upgrade.reasons},
                         {("untested", "RDMA WRITE bandwidth (perftest ib_write_bw, 3 runs a "
                           "size; higher is better) at 4096 B on debian-13: not measured: "
                           "the client exited with 1")})

    def slower_with_a_risk(self, facts):
        """B's write_lat-2 1.5 times A's and its bandwidth at 64 KiB 3/4 of A's,
        beside a review finding of the ABI (a risk)."""
        write_baseline(self.baselines, "rxe-6.12", NEW, dict(SAME, **{"write_lat-2": 30000}),
                       facts=facts)
        the_gate, _, _ = self.perf({OLD: SAME, NEW: dict(SAME, **{"write_lat-2": 30000})},
                                   {OLD: BW, NEW: {**BW, 65536: 300.0}}, facts=facts)
        the_gate.upgrade.abi = record.Abi(findings=[Finding(
            "libibverbs", "private ABI changed", "review", "providers", "d")])
        the_gate.save()
        return the_gate

    def test_slower_in_the_lab_ranks_below_the_risks_and_is_no_no_go(self):
        the_gate = self.slower_with_a_risk(LAB)
        reasons = the_gate.upgrade.reasons
        self.assertEqual(the_gate.upgrade.verdict, "GO WITH RISKS")
        self.assertEqual([(r.category, r.where) for r in reasons],
                         [("risk", None), ("slower", "lab"), ("slower", "lab"),
                          ("slower", "lab")])
        self.assertRegex(reasons[1].text, r"^RDMA WRITE round-trip latency .* at 2 B: 1\.5\dx "
                         r"the time on the new stack \(99% CI .*\), in the lab: soft-RoCE")
        self.assertRegex(reasons[2].text, r"^RDMA WRITE bandwidth .* at 65536 B: 1\.3\dx")
        self.assertRegex(reasons[3].text, r"^RDMA WRITE message rate .* at 65536 B")
        # B against its own baseline: the same everywhere, measured in the lab
        self.assertEqual({(b.verdict, b.where) for b in the_gate.upgrade.baseline},
                         {("same", "lab")})
        self.assertEqual(len(the_gate.upgrade.baseline), len(native.SWEEP))

    def test_slower_on_a_device_ranks_above_the_risks(self):
        the_gate = self.slower_with_a_risk(DEVICE)
        self.assertEqual(the_gate.upgrade.verdict, "GO WITH RISKS")
        self.assertEqual([(r.category, r.where) for r in the_gate.upgrade.reasons],
                         [("slower", "device"), ("risk", None)])   # no perftest on a device
        self.assertIn(", on the device", the_gate.upgrade.reasons[0].text)
        self.assertEqual(the_gate.upgrade.perf[1].points, [])


class BothSidesAtOnce(unittest.TestCase):
    """suite.each: guests on the instruction clock run at once, anything
    on the wall clock one after the other."""

    def sessions(self, exact: bool) -> list:
        facts = dict(LAB, clock={"kind": "instructions"}) if exact else LAB
        return [SimpleNamespace(target=Target(facts), name=n) for n in (OLD, NEW)]

    def test_instruction_clock_guests_run_at_once(self):
        both_started = threading.Barrier(2, timeout=30)   # broken if one waits for the other
        seen: list = []
        suite.each(self.sessions(True), lambda s: seen.append((s.name, both_started.wait())))
        self.assertEqual(sorted(n for n, _ in seen), [OLD, NEW])

    def test_wall_clock_sides_run_in_order_in_this_thread(self):
        seen: list = []
        suite.each(self.sessions(False),
                   lambda s: seen.append((s.name, threading.current_thread())))
        self.assertEqual(seen, [(OLD, threading.main_thread()), (NEW, threading.main_thread())])

    def test_a_side_that_fails_fails_the_round(self):
        def work(session):
            if session.name == NEW:
                raise RuntimeError("the guest of debian-13 failed")
        with self.assertRaisesRegex(RuntimeError, "debian-13"):
            suite.each(self.sessions(True), work)


class MeetingInTheBoot(unittest.TestCase):
    """perf/suite.py's Meeting and a side's _Waiting beside its boot: the
    host looks at the files a guest writes (here, the test writes them)."""
    def setUp(self):
        self.root, _ = own_baselines(self)
        self.sessions = [SimpleNamespace(stack=SimpleNamespace(name=n),
                                         target=Target(dict(LAB, clock={})))
                         for n in (OLD, NEW)]

    def test_the_host_chooses_once_every_side_has_come(self):
        seen: list = []
        meeting = suite.Meeting(self.sessions, lambda found: seen.append(found) or ["write_lat-2"])
        got: dict = {}
        threads = [threading.Thread(target=lambda s=s, k=k: got.update(
            {k: meeting.meet(s, {"side": k})})) for k, s in enumerate(self.sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(got, {0: ["write_lat-2"], 1: ["write_lat-2"]})
        self.assertEqual(seen, [[{"side": 0}, {"side": 1}]])   # once, in the sessions' order

    def test_a_side_that_never_comes_lets_the_others_go(self):
        meeting = suite.Meeting(self.sessions, lambda found: ["write_lat-2"])
        meeting.leave()
        self.assertEqual(meeting.meet(self.sessions[0], {}), [])

    def measured(self, out: Path) -> None:
        """What a guest leaves once its 3 runs of write_lat-2 are in."""
        out.mkdir(parents=True)
        (out / "status.txt").write_text("".join(f"write_lat-2.{k} 0\n" for k in range(3)))
        for k in range(3):
            (out / f"write_lat-2.{k}.txt").write_text("# rdmagate-perf test=write\n14430\n")
        (out / "measured").touch()

    def test_a_side_writes_the_profile_jobs_the_host_chose(self):
        outs = [self.root / side / "boot1" for side in ("a", "b")]
        seen: list = []
        meeting = suite.Meeting(self.sessions, lambda found: seen.append(found) or ["write_lat-2"])
        perf = self.root / "build" / "rdmagate-perf"
        waiting = [suite._Waiting(s, meeting, out, ["write_lat-2"], 3, perf)
                   for s, out in zip(self.sessions, outs)]
        for out in outs:
            self.measured(out)
        deadline = time.monotonic() + 30
        while not all((out / "profile.jobs").exists() for out in outs) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        for side in waiting:
            side.end()
            self.assertEqual(side.chosen, ["write_lat-2"])
        self.assertEqual(seen[0][0]["write_lat-2"]["runs"], [[14430]] * 3)
        for out in outs:
            self.assertEqual((out / "profile.jobs").read_text(),
                             f"profile-write_lat-2 {perf} --device rxe0 --test write --size 2 "
                             "--iters 2000 --warmup 200\n")
            self.assertFalse((out / "profile.jobs.part").exists())

    def test_a_boot_that_ends_before_measuring_frees_the_other_side(self):
        outs = [self.root / side / "boot1" for side in ("a", "b")]
        meeting = suite.Meeting(self.sessions, lambda found: ["write_lat-2"])
        perf = self.root / "rdmagate-perf"
        waiting = [suite._Waiting(s, meeting, out, ["write_lat-2"], 3, perf)
                   for s, out in zip(self.sessions, outs)]
        outs[0].mkdir(parents=True)
        waiting[0].end()            # its guest failed: it never said it measured
        self.measured(outs[1])      # the other did, and does not wait for it
        deadline = time.monotonic() + 30
        while not (outs[1] / "profile.jobs").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue((outs[1] / "profile.jobs").exists(), "the other side still waits")
        waiting[1].end()
        self.assertEqual([(out / "profile.jobs").read_text() for out in outs], ["", ""])
        self.assertEqual([w.chosen for w in waiting], [[], []])


if __name__ == "__main__":
    unittest.main()
