"""What the perf suite reads, no guest: perf baselines (bad ones refused
clearly, format 1 as an unknown machine, compared in the direction they
record, another machine through the calibration) and rdmagate-perf's
outputs (every run kept, garbage refused)."""
import json
import os
import random
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

from rdmagate.errors import InfraError, UsageError
from rdmagate.perf import baseline, budget, calibrate, machine, native, stats, suite
from rdmagate.perf.budget import Budget
from tests.perf_support import without_boot_effect
from tests.support import REPO_ROOT, rdmagate

RUN = [100 + i % 7 for i in range(50)]
CAL = [9000 + i % 5 for i in range(50)]
LAB = {"where": "lab", "cpu_model": "AMD EPYC", "cpu_flags": "ab12", "cores": 2,
       "memory_gib": 24, "host_kernel": "6.1.0-27-amd64", "qemu": "7.2.22 (Debian)",
       "accel": "tcg", "guest_cpus": 2, "guest_memory_mb": 1024}


def format2(lat_runs, rate_runs) -> dict:
    return {"format": 2, "machine": dict(LAB), "calibration": {"runs": [CAL, CAL]},
            "measurements": {"write_lat-2": {"higher_is_better": False, "runs": lat_runs},
                             "write_rate-64": {"higher_is_better": False, "runs": rate_runs}}}


class LabBoots(unittest.TestCase):
    """A check in the lab counts its boots and the baseline's (perf/stats.py's
    boot effect); on a device there is no boot between runs."""

    def test_the_boots_of_both_sides_set_the_width_in_the_lab_only(self):
        rng = random.Random(5)
        runs = [[round(20000 * rng.lognormvariate(0, 0.02)) for _ in range(50)]
                for _ in range(8)]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "b.json"
            path.write_text(json.dumps(dict(format2(runs, runs), boots=2)))
            stored = baseline.load(path)

        def width(facts, boots, stored=stored):
            cmp = baseline.compare(stored, "write_lat-2", runs, 0.1, facts, None, boots)
            return cmp.high / cmp.low, cmp.verdict
        device = dict(LAB, where="device", device="mlx5 mlx5_0")
        stored_device = dict(stored, machine=device)
        one, four, on_device = width(LAB, 1), width(LAB, 4), width(device, 1, stored_device)
        # the same runs: same on a device, inconclusive in the lab from one boot
        self.assertEqual((on_device[1], one[1]), ("same", "inconclusive"))
        self.assertEqual(baseline.compare(stored, "write_lat-2", runs, 0.1, LAB, None, 1).note,
                         "boots differ by sd 0.10 here: 2 and 1 boots leave the interval "
                         "wider than the threshold (more boots narrow it)")
        self.assertGreater(one[0], four[0])
        self.assertGreater(four[0], on_device[0])
        # a baseline of more boots narrows it too
        stored_more = dict(stored, boots=8)
        self.assertGreater(one[0], width(LAB, 1, stored_more)[0])
        # the boots a check measured in are counted where its runs were merged
        merged = native.merge(native.runs_of({"write_lat-2.0": {"samples": RUN,
                                                                "higher_is_better": False}},
                                             "write_lat-2", 1),
                              {"runs": [RUN], "boots": 1})
        self.assertEqual((len(merged["runs"]), merged["boots"]), (2, 2))


class Baselines(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "b.json"
        without_boot_effect(self)   # a rule on runs of one boot

    def tearDown(self):
        self.tmp.cleanup()

    def load(self, data) -> dict:
        self.path.write_text(data if isinstance(data, str) else json.dumps(data))
        return baseline.load(self.path)

    def test_committed_baselines_load(self):
        for path in sorted((REPO_ROOT / "baselines" / "perf").glob("*/*.json")):
            data = baseline.load(path)
            self.assertGreaterEqual(len(data["measurements"]["write_lat-2"]["runs"]), 1)
        self.assertTrue((REPO_ROOT / "baselines/perf/rxe-6.1/debian-12.json").is_file())
        self.assertTrue((REPO_ROOT / "baselines/perf/rxe-6.12/debian-13.json").is_file())

    def test_corrupt_baselines_name_file_and_field(self):
        with self.assertRaisesRegex(UsageError, r"b.json: not a valid baseline \(JSON"):
            self.load('{"format": 2, "measurements": {')
        with self.assertRaisesRegex(UsageError, r"b.json: field format: must be 1 or 2"):
            self.load({"format": 3, "measurements": {}})
        good = {"format": 1, "measurements": {"write_lat-2": {"higher_is_better": False,
                                                              "samples": [1, 2, 3, 4, 5]}}}
        self.assertEqual(self.load(good)["format"], 1)
        good["measurements"]["write_lat-2"]["samples"][2] = 0   # never a zero latency
        with self.assertRaisesRegex(UsageError, r"field measurements.write_lat-2.samples"):
            self.load(good)
        new = format2([RUN, RUN], [RUN, RUN])
        self.assertEqual(self.load(new)["machine"]["where"], "lab")
        new["measurements"]["write_lat-2"]["runs"][1] = [1, 2]
        with self.assertRaisesRegex(UsageError, r"field measurements.write_lat-2.runs\[1\]"):
            self.load(new)
        new = format2([RUN, RUN], [RUN, RUN])
        del new["machine"]       # a format-2 file says where it was recorded
        with self.assertRaisesRegex(UsageError, r"b.json: field machine"):
            self.load(new)

    def test_a_bad_or_mismatched_baseline_is_exit_2_with_one_line(self):
        profile = Path(self.tmp.name) / "rxe-6.1"
        profile.mkdir()
        mismatched = profile / "debian-12.json"
        mismatched.write_text(json.dumps(dict(format2([RUN, RUN], [RUN, RUN]), stack="debian-13")))
        corrupt = profile / "debian-13.json"
        corrupt.write_text('{"format": 2, "measurements": {"write_lat-2": {"runs": 3}}}')
        for path, why in ((mismatched, r"field stack: 'debian-13', but the file is the "
                           r"baseline of 'debian-12'"),
                          (corrupt, r"field measurements.write_lat-2.runs: needs 1 to \d+ runs")):
            done = rdmagate("baseline", "show", str(path))
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertRegex(done.stderr, f"^rdmagate: error: {path}: {why}")
        good = profile / "debian-11.json"
        good.write_text(json.dumps(dict(format2([RUN, RUN], [RUN, RUN]), stack="debian-11")))
        done = rdmagate("baseline", "show", str(good))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r"format 2, .* on AMD EPYC, 2 cores.*\ncalibration: 2 runs.*\nhost load: not recorded\n"
                         r"unit: ns \(wall clock\)\nwrite_lat-2: 2 runs")

    def test_a_format_1_baseline_is_an_unknown_machine(self):
        old = self.load({"format": 1, "measurements": {"write_lat-2": {
            "higher_is_better": False, "samples": RUN}}})
        self.assertIsNone(old["machine"])
        cmp = baseline.compare(old, "write_lat-2", [RUN, RUN, RUN], 0.1, LAB, [CAL, CAL])
        self.assertEqual(cmp.verdict, "inconclusive")
        self.assertRegex(cmp.note, r"^not comparable: recorded on an unknown machine .*format-1"
                         r".*, measured on AMD EPYC")
        self.assertEqual(cmp.as_dict()["ci"], [])

    def test_values_of_the_wrong_type_are_refused(self):
        # samples of true once read as 1 ns each, and every run was "slower"
        def with_(**change):
            data = {"format": 1, "iters": 2000, "measurements": {"write_lat-2": {
                "higher_is_better": False, "samples": [31000] * 5}}}
            data["measurements"]["write_lat-2"].update(change.pop("m", {}))
            return {**data, **change}
        for bad, field in ((with_(m={"samples": [True] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": [31000.5] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": ["31000"] * 5}), "write_lat-2.samples"),
                           (with_(m={"samples": [31000] * (baseline.MAX_SAMPLES + 1)}),
                            "write_lat-2.samples"),
                           (with_(m={"higher_is_better": "false"}), "write_lat-2.higher_is_better"),
                           (with_(iters="2000"), "iters"), (with_(iters=True), "iters"),
                           (with_(kernel=6.1), "kernel")):
            with self.subTest(field=field, bad=str(bad)[:80]):
                with self.assertRaisesRegex(UsageError, rf"b.json: field (measurements\.)?"
                                            rf"{field}: "):
                    self.load(bad)

    def test_comparison_goes_the_way_the_baseline_records(self):
        runs = [[100 + (i + k) % 7 for i in range(300)] for k in range(4)]
        stored = format2(runs, runs)
        stored["measurements"]["write_rate-64"]["higher_is_better"] = True
        self.path.write_text(json.dumps(stored))
        stored = baseline.load(self.path)
        halved = [[50 + (i + k) % 4 for i in range(300)] for k in range(4)]
        self.assertEqual(baseline.compare(stored, "write_lat-2", halved, 0.1, LAB,
                                          [CAL, CAL]).verdict, "faster")
        self.assertEqual(baseline.compare(stored, "write_rate-64", halved, 0.1, LAB,
                                          [CAL, CAL]).verdict, "slower")

    def test_another_guest_cpu_count_is_another_machine(self):
        """--guest-cpus goes from the option to QEMU's -smp and into the run's
        machine record, and a baseline of another count is another machine."""
        from rdmagate.targets import Host, Ran, Wanted, choose
        from rdmagate.targets.lab import qemu
        lab = choose(Wanted("debian-12", None, True, True, False, guest_cpus=1),
                     Host.given([], qemu=True, rxe=False))
        self.assertEqual((lab.guest_cpus, lab.flags()), (1, ["--lab", "--guest-cpus=1"]))
        with self.assertRaisesRegex(UsageError, r"^--guest-cpus 1 sizes the lab's guest; it "
                                    r"goes with --lab$"):
            choose(Wanted("debian-12", "mlx5_0", False, True, False, guest_cpus=1),
                   Host.given(["mlx5_0"], qemu=True, rxe=False))
        argv = qemu.argv(qemu.Guest(Path("k"), Path("i"), "", cpus=1), "tcg")
        self.assertEqual(argv[argv.index("-smp") + 1], "1")
        measured = machine.of_target(lab, Ran(0, "6.1.0-27-amd64", {"lab": {
            "accel": "tcg", "guest_cpus": 1, "guest_memory_mb": 1024}}))
        self.assertEqual(measured["guest_cpus"], 1)
        now = dict(LAB, guest_cpus=1)
        self.assertEqual(machine.differences(LAB, now), ["guest_cpus: 2 vs 1"])
        stored = self.load(format2([RUN] * 4, [RUN] * 4))
        # the rxe path changes with the guest's CPUs where a CPU loop does not:
        # even calibrations that agree bridge nothing
        for cal in ([CAL] * 2, None):
            cmp = baseline.compare(stored, "write_lat-2", [[v * 2 for v in RUN]] * 4, 0.1,
                                   now, cal)
            self.assertEqual(cmp.verdict, "inconclusive")
            self.assertRegex(cmp.note, r"^not comparable: .*2 guest CPUs, measured on .*1 "
                             r"guest CPUs \(guest_cpus: 2 vs 1\)$")

    def test_another_machine_is_corrected_by_calibration_or_not_comparable(self):
        rng = random.Random(3)
        base_runs = [[round(20000 * rng.lognormvariate(0, 0.02)) for _ in range(50)]
                     for _ in range(8)]
        stored = format2(base_runs, base_runs)
        stored["calibration"]["runs"] = [[round(9000 * rng.lognormvariate(0, 0.01))
                                          for _ in range(50)] for _ in range(8)]
        self.path.write_text(json.dumps(stored))
        stored = baseline.load(self.path)
        # the same stack on a machine 30% slower at everything: its calibration says so
        slow = [[round(v * 1.3) for v in run] for run in base_runs]
        slow_cal = [[round(v * 1.3) for v in run] for run in stored["calibration"]["runs"]]
        other = dict(LAB, cpu_model="Intel Xeon", cores=4)
        cmp = baseline.compare(stored, "write_lat-2", slow, 0.1, other, slow_cal)
        self.assertNotIn(cmp.verdict, ("slower", "faster"), cmp)
        self.assertAlmostEqual(cmp.ratio, 1.0, delta=0.02)
        self.assertRegex(cmp.note, r"corrected by the calibration ratio 1.30")
        # uncorrected, the same data would be called slower: the correction matters
        self.assertEqual(baseline.compare(stored, "write_lat-2", slow, 0.1, LAB, None).verdict,
                         "slower")
        # the same machine, same speed: no correction, a plain verdict
        self.assertEqual(baseline.compare(stored, "write_lat-2", base_runs, 0.1, LAB,
                                          stored["calibration"]["runs"]).note, "")
        # the same machine running 30% slower (a guest beside it): corrected
        cmp = baseline.compare(stored, "write_lat-2", slow, 0.1, LAB, slow_cal)
        self.assertRegex(cmp.note, r"corrected by the calibration ratio 1.30")
        # the same machine, calibrations apart by less than their own noise: left alone
        noisy = [[round(v * f) for v in run] for run, f in
                 zip(stored["calibration"]["runs"][:2], (0.97, 1.09))]
        self.assertEqual(baseline.compare(stored, "write_lat-2", base_runs, 0.1, LAB,
                                          noisy).note, "")
        # emulator against a device: nothing bridges that
        device = dict(LAB, where="device", device="mlx5 mlx5_0")
        cmp = baseline.compare(stored, "write_lat-2", base_runs, 0.1, device, slow_cal)
        self.assertEqual(cmp.verdict, "inconclusive")
        self.assertRegex(cmp.note, r"^not comparable: recorded on AMD EPYC.*lab: QEMU 7.2.22 "
                         r"tcg.*, measured on .*device mlx5 mlx5_0")
        # another machine and no calibration measured now
        cmp = baseline.compare(stored, "write_lat-2", slow, 0.1, other, None)
        self.assertRegex(cmp.note, r"not comparable: .*no calibration on both sides")


class Synthetic:
    """A side whose boots give runs of known medians (what Session.boot keeps),
    on a wall-clock target: the sides boot one after the other."""
    target = SimpleNamespace(exact=False)

    def __init__(self, medians):
        self.medians, self.results, self.booted = iter(medians), {}, []

    def boot(self, names, runs, meeting=None):
        self.booted.append(list(names))
        for name in names:
            got = self.results.setdefault(name, {"runs": [], "higher_is_better": False})
            got["runs"] += [[next(self.medians)] * 5 for _ in range(runs)]

    def runs(self, name):
        return len(self.results.get(name, {}).get("runs", []))


class Adaptive(unittest.TestCase):
    def decided_by(self, a, b):
        return lambda name: stats.compare(a.results[name]["runs"], b.results[name]["runs"],
                                          0.10).verdict != "inconclusive"

    def test_runs_are_added_only_where_undecided_up_to_the_cap(self):
        rng = random.Random(9)
        steady = lambda: (100 * rng.lognormvariate(0, 0.005) for _ in range(99))  # noqa: E731
        noisy = (100 * rng.lognormvariate(0, 0.3) for _ in range(99))
        a, b = Synthetic(steady()), Synthetic(steady())
        suite.adaptive([a, b], ["m"], self.decided_by(a, b), runs=4)
        self.assertEqual((a.booted, b.runs("m")), ([["m"]], 4))   # decided after one boot
        a, b = Synthetic(steady()), Synthetic(noisy)
        suite.adaptive([a, b], ["m"], self.decided_by(a, b), runs=4, max_runs=12)
        self.assertEqual((len(a.booted), b.runs("m")), (3, 12))   # undecided: to the cap

    def test_a_boot_over_fewer_measurements_gives_each_more_runs(self):
        rng = random.Random(11)
        a = Synthetic(100 * rng.lognormvariate(0, 0.3) for _ in range(999))
        b = Synthetic(100 * rng.lognormvariate(0, 0.3) for _ in range(999))
        suite.adaptive([a, b], ["m", "n", "o"], lambda name: name != "m", 
                       runs=4, max_runs=16, jobs_a_boot=12)
        self.assertEqual(a.booted, [["m", "n", "o"], ["m"]])
        self.assertEqual((a.runs("m"), a.runs("n")), (16, 4))   # 4, then the 12 left

    def test_the_budget_stops_the_next_boot(self):
        rng = random.Random(10)
        clock = FakeClock()
        a = Timed((100 * rng.lognormvariate(0, 0.3) for _ in range(99)), clock)
        b = Timed((100 * rng.lognormvariate(0, 0.3) for _ in range(99)), clock)
        spent = suite.adaptive([a, b], ["m"], self.decided_by(a, b),
                               Budget(60.0, clock, load=0), runs=4)
        # 2 x (10 + 4 + 2) s, then the 28 s left hold a round of 2 runs, not of 4
        self.assertEqual((a.per, spent), ([4, 2], 60.0))


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Timed(Synthetic):
    """A session whose boot takes `slow` times the budget's quiet figures."""
    def __init__(self, medians, clock, slow=1.0):
        super().__init__(medians)
        self.clock, self.slow, self.per = clock, slow, []

    def boot(self, names, runs, meeting=None):
        super().boot(names, runs)
        self.per.append(runs)
        jobs = runs * len(names) + min(runs, calibrate.RUNS_A_BOOT)
        self.clock.now += self.slow * (budget.BOOT_S + jobs * budget.RUN_S)


class BudgetRounds(unittest.TestCase):
    """The budget sizes the first round too, down to its smallest, which always runs."""
    SWEEP = ["s2", "s64", "s1k", "s4k", "s64k"]

    def sides(self, clock, slow=1.0):
        rng = random.Random(4)
        return [Timed((100 * rng.lognormvariate(0, 0.3) for _ in range(999)), clock, slow)
                for _ in range(2)]

    def run_gate_like(self, seconds, slow=1.0, load_per_core=0.0, runs=3):
        clock = FakeClock()
        a, b = self.sides(clock, slow)
        spend = Budget(seconds, clock, load=load_per_core * (os.cpu_count() or 1))
        spent = suite.adaptive([a, b], self.SWEEP, lambda name: False, spend, runs=runs,
                               max_runs=16, jobs_a_boot=15)
        return a, spend, spent

    def test_a_short_budget_gets_a_smaller_first_round(self):
        a, spend, _ = self.run_gate_like(100.0)   # 3 runs: 2 x (10 + 15 + 2) = 54 s
        self.assertEqual(a.per[0], 3)
        a, spend, spent = self.run_gate_like(60.0, runs=4)   # 4 runs would be 64 s
        self.assertEqual(a.per, [3])
        self.assertRegex(spend.summary(), r"^budget 60 s, 54 s spent: round 1 \(2 boot\(s\), "
                         r"3 runs of 5 measurement\(s\)\) 54 s \(estimated 54\); round 2 .* "
                         r"not started: about 44 s, 6 s left$")

    def test_a_first_round_that_cannot_fit_runs_at_its_smallest_and_says_so(self):
        # without a first round there is nothing to judge: it overruns, no more
        a, spend, spent = self.run_gate_like(40.0, runs=4)
        self.assertEqual((a.per, spent), ([3], 54.0))
        self.assertRegex(spend.summary(), r"round 1 \(2 boot\(s\), 3 runs of 5 "
                         r"measurement\(s\)\) over budget \(host load 0.0\) 54 s "
                         r"\(estimated 54\); round 2 .* not started")

    def test_a_loaded_host_is_foreseen_and_the_budget_holds_after_the_first_round(self):
        # the host runs 6 times slower than quiet, and its load says so
        first = 6.0 * 2 * (10 + 3 * 5 + 2)      # the smallest first round there
        for seconds in (100.0, 170.0, 300.0, 600.0, 2000.0):
            a, spend, spent = self.run_gate_like(seconds, slow=6.0, load_per_core=6.0)
            self.assertLessEqual(spent, max(seconds, first), spend.summary())
            self.assertGreaterEqual(len(a.booted), 1)
        self.assertEqual(len(self.run_gate_like(170.0, 6.0, 6.0)[0].booted), 1)
        # unforeseen (the load said quiet): the first round overruns, the next is measured
        a, spend, spent = self.run_gate_like(400.0, slow=6.0)
        self.assertEqual(len(a.booted), 1)
        self.assertAlmostEqual(spend.scale, 6.0)


class NativeRuns(unittest.TestCase):
    def test_every_run_is_kept(self):
        found = {"m.0": {"samples": [30, 31, 90], "higher_is_better": False},
                 "m.1": {"samples": [20, 21, 22], "higher_is_better": False},
                 "m.2": {"error": "exit 1"}}
        runs = native.runs_of(found, "m", 3)
        self.assertEqual((runs["runs"], runs["failed"]), ([[30, 31, 90], [20, 21, 22]], 1))
        self.assertEqual(native.runs_of({"m.0": {"error": "x"}}, "m", 1), {"error": "x"})
        both = native.merge(runs, native.runs_of(found, "m", 2))
        self.assertEqual((len(both["runs"]), both["failed"]), (4, 1))
        self.assertEqual(native.merge(None, {"error": "x"}), {"error": "x"})

    def test_garbage_output_and_unsafe_words_are_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "x.txt"
            out.write_text("Segmentation fault\n")
            with self.assertRaisesRegex(InfraError, "no rdmagate-perf header"):
                native.read_samples(out)
            out.write_text("# rdmagate-perf test=write\n12\n0\n")
            with self.assertRaisesRegex(InfraError, "not positive"):
                native.read_samples(out)
            with self.assertRaisesRegex(InfraError, "a word with a space"):
                native.write_jobs(Path(tmp) / "jobs", [("m", ["a b"])])


if __name__ == "__main__":
    unittest.main()
