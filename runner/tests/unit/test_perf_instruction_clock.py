"""Lab performance on QEMU's instruction clock, no guest: the exact verdict
(perf/exact.py), the baseline's clock fields, old baselines as wall-clock
ones, the refusal to compare two clocks, and the guest's QEMU argv."""
import json
import tempfile
import unittest
from pathlib import Path
from types import SimpleNamespace

from rdmagate.errors import UsageError
from rdmagate.perf import attribute, baseline, clock, exact, suite
from rdmagate.targets.lab import qemu
from tests.perf_support import LAB

ICOUNT = {"kind": "instructions", "qemu": "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)",
          "cpu_model": "Skylake-Client-v4", "icount": "shift=0,sleep=off"}
EXACT_LAB = dict(LAB, guest_cpus=1, clock=ICOUNT)


def run_of(median: int, tail: int = 40) -> list[int]:
    """A run as the instruction clock gives one: most samples the same count,
    a tail above it (timer interrupts in the loop)."""
    return [median] * 60 + [median + 5 + 97 * k for k in range(tail)]


class ExactVerdict(unittest.TestCase):
    def test_the_ratio_decides_against_half_the_threshold(self):
        a = [run_of(27096)] * 3
        for slowed, want in ((27096, "same"), (27096 * 1.04, "same"),
                             (27096 * 1.05, "slower"), (27096 * 1.021, "same"),
                             (27096 * 0.95, "faster"), (27096 * 2.13, "slower")):
            cmp = exact.compare(a, [run_of(round(slowed))] * 3, 0.10)
            self.assertEqual(cmp.verdict, want, slowed)
            self.assertAlmostEqual(cmp.ratio, round(slowed) / 27096, places=9)
            self.assertEqual((cmp.spread, cmp.note, cmp.clock), ([0, 0], "", "instructions"))
        # a 2% slowdown is slower against a 2% threshold: the clock resolves it
        self.assertEqual(exact.compare(a, [run_of(round(27096 * 1.02))] * 3, 0.02).verdict,
                         "slower")

    def test_a_spread_above_the_floor_is_said_with_its_figures(self):
        a = [run_of(12709), run_of(12884), run_of(12800)]   # 1.38% apart
        cmp = exact.compare(a, [run_of(12800)] * 3, 0.10)
        self.assertEqual(cmp.verdict, "same")   # every ratio the runs allow is within
        self.assertRegex(cmp.note, r"^the instruction clock was not deterministic: run "
                         r"medians of A spread 1\.38% \(12709-12884 virtual ns, 3 runs\), "
                         r"of B 0\.00% .*above the 0\.5% floor")
        self.assertEqual(cmp.spread, [round(12884 / 12709 - 1, 6), 0])
        # a range of ratios across a boundary cannot be decided
        wide = [run_of(10000), run_of(10400)]
        self.assertEqual(exact.compare(wide, [run_of(10700)] * 2, 0.10).verdict, "inconclusive")
        # within the floor the point ratio decides, whatever the range
        near = [run_of(10000), run_of(10040)]
        self.assertEqual(exact.compare(near, [run_of(10530)] * 2, 0.10).verdict, "slower")

    def test_higher_is_better_is_turned_into_time(self):
        cmp = exact.compare([run_of(1000)] * 2, [run_of(500)] * 2, 0.1, higher_is_better=True)
        self.assertEqual((cmp.verdict, cmp.ratio), ("slower", 2.0))


def session(facts: dict, kernel="6.1.0-50-amd64") -> SimpleNamespace:
    return SimpleNamespace(stack=SimpleNamespace(name="debian-12", rdma_core="44.0-2"),
                           machine=dict(facts), kernel=kernel, iters=500, warmup=200, boots=2,
                           calibration=[[9000] * 20, [9001] * 20])


class Baselines(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name) / "rxe-6.1"

    def write(self, facts: dict, medians=(27096, 27096)) -> dict:
        path = baseline.write(self.root / "debian-12.json", "rxe-6.1", session(facts),
                              {"write_lat-2": {"higher_is_better": False,
                                               "runs": [run_of(m) for m in medians]}})
        return baseline.load(path)

    def test_an_instruction_clock_baseline_records_what_its_figures_depend_on(self):
        stored = self.write(EXACT_LAB)
        self.assertEqual((stored["clock"], stored["unit"]), ("instructions", "virtual ns"))
        self.assertEqual(stored["instruction_clock"], {
            "qemu": ICOUNT["qemu"], "cpu_model": "Skylake-Client-v4",
            "icount": "shift=0,sleep=off", "kernel": "6.1.0-50-amd64", "stack": "debian-12"})
        # on any host: another CPU, load and memory change nothing
        elsewhere = dict(EXACT_LAB, cpu_model="Intel Xeon", cores=64, host_load=4.0,
                         guest_memory_mb=2048)
        cmp = baseline.compare(stored, "write_lat-2", [run_of(27096)] * 3, 0.1, elsewhere)
        self.assertEqual((cmp.verdict, cmp.ratio, cmp.note), ("same", 1.0, ""))
        cmp = baseline.compare(stored, "write_lat-2", [run_of(28500)] * 3, 0.1, elsewhere)
        self.assertEqual(cmp.verdict, "slower")
        message = suite.verdict_message("the baseline", cmp, 0.1, "lab")
        self.assertRegex(message, r"^slower: 1\.052x the baseline \(virtual ns on the "
                         r"instruction clock, run spread 0\.00%/0\.00%, 3 runs against 2, "
                         r"threshold 10%, lab\)$")
        self.assertIn("unit: virtual ns (instruction clock): the whole software path, "
                      "library + provider + kernel rxe, in guest instructions; not a device "
                      "latency; QEMU 7.2.22, Skylake-Client-v4, icount shift=0,sleep=off",
                      baseline.summary(stored))

    def test_another_cpu_model_or_qemu_is_not_comparable(self):
        stored = self.write(EXACT_LAB)
        for change, named in (({"cpu_model": "qemu64"}, "cpu_model: Skylake-Client-v4 vs qemu64"),
                              ({"qemu": "8.2.2"}, "qemu: 7.2.22")):
            now = dict(EXACT_LAB, clock=dict(ICOUNT, **change))
            cmp = baseline.compare(stored, "write_lat-2", [run_of(27096)] * 3, 0.1, now)
            self.assertEqual(cmp.verdict, "inconclusive")
            self.assertTrue(cmp.note.startswith("not comparable: the baseline's instruction "
                                                "clock was QEMU 7.2.22, Skylake-Client-v4"),
                            cmp.note)
            self.assertIn(named, cmp.note)
            self.assertEqual((cmp.ratio, cmp.as_dict()["ci"]), (0.0, []))

    def test_the_two_clocks_are_never_compared(self):
        wall = self.write(LAB)    # recorded on the wall clock (a lab before this one)
        self.assertEqual((wall["clock"], baseline.clock_of(wall)), ("CLOCK_MONOTONIC_RAW", "wall"))
        self.assertNotIn("instruction_clock", wall)
        cmp = baseline.compare(wall, "write_lat-2", [run_of(27096)] * 3, 0.1, EXACT_LAB)
        self.assertEqual((cmp.verdict, cmp.ratio), ("inconclusive", 0.0))
        self.assertTrue(cmp.note.startswith("not comparable: the baseline is in ns (wall "
                                            "clock), this run in virtual ns (instructions "
                                            "clock)"), cmp.note)
        self.assertEqual(suite.verdict_message("the baseline", cmp, 0.1, "lab"),
                         f"inconclusive: the baseline: {cmp.note}")
        exact_one = self.write(EXACT_LAB)
        cmp = baseline.compare(exact_one, "write_lat-2", [run_of(27096)] * 3, 0.1, LAB)
        self.assertTrue(cmp.note.startswith("not comparable: the baseline is in virtual ns"))

    def test_old_baselines_load_as_wall_clock_ones(self):
        self.root.mkdir(parents=True)
        for text in ({"format": 1, "measurements": {"write_lat-2": {
                "higher_is_better": False, "samples": run_of(100)}}},
                {"format": 2, "clock": "CLOCK_MONOTONIC_RAW", "unit": "ns", "machine": LAB,
                 "calibration": {"runs": []}, "measurements": {"write_lat-2": {
                     "higher_is_better": False, "runs": [run_of(100)]}}}):
            path = self.root / "debian-12.json"
            path.write_text(json.dumps(text))
            self.assertEqual(baseline.clock_of(baseline.load(path)), clock.WALL)

    def test_an_instruction_clock_baseline_without_its_facts_is_refused(self):
        stored = self.write(EXACT_LAB)
        path = self.root / "debian-12.json"
        data = json.loads(path.read_text())
        del data["instruction_clock"]["cpu_model"]
        path.write_text(json.dumps(data))
        with self.assertRaisesRegex(UsageError, r"debian-12\.json: field instruction_clock: "
                                    r"must give qemu, cpu_model, icount, kernel, stack"):
            baseline.load(path)
        self.assertTrue(stored)


# what profile_job.sh leaves: each job's timed loop on CLOCK_REALTIME, and
# perf script's samples on the same clock (lines as perf 6.1 and 6.12 print them)
WINDOWS = {"write_lat-2": "100.000000000 101.000000000\n",
           "write_lat-64": "102.000000000 103.000000000\n"}
SAMPLE = "{at:.6f}:  {ip} {symbol} ({dso})\n"
KERNEL, USER = "ffffffffc04e1e38", "7f3a12345678"


def samples(at: float, **counts) -> str:
    """counts: symbol -> how many samples at `at` (kernel unless it names a library)."""
    lines = []
    for symbol, n in counts.items():
        user = symbol.startswith("ibv_")
        lines += [SAMPLE.format(at=at, ip=USER if user else KERNEL, symbol=symbol,
                                dso="/usr/lib/x86_64-linux-gnu/libibverbs.so.1.14.44.0"
                                if user else "[kernel.kallsyms]")] * n
    return "".join(lines)


class Attribution(unittest.TestCase):
    def profile(self, out: Path, text: str, windows: dict = WINDOWS) -> dict:
        out.mkdir()
        for name, window in windows.items():
            (out / f"{attribute.PREFIX}{name}.window").write_text(window)
        (out / "samples.txt").write_text(text)
        return attribute.read(out, ["write_lat-2", "write_lat-64"])

    def test_each_job_has_the_samples_of_its_window(self):
        with tempfile.TemporaryDirectory() as tmp:
            found = self.profile(Path(tmp) / "p", samples(100.5, rxe_requester=3, ibv_poll_cq=1)
                                 + samples(101.5, rxe_completer=50)     # between the jobs
                                 + samples(102.25, rxe_requester=1, crc32_body=3)
                                 + "not a sample line\n")
        self.assertEqual(found["write_lat-2"], {"shares": {
            "rxe_requester (kernel)": 75.0, "ibv_poll_cq (libibverbs.so.1.14.44.0)": 25.0}})
        self.assertEqual(found["write_lat-64"], {"shares": {
            "rxe_requester (kernel)": 25.0, "crc32_body (kernel)": 75.0}})

    def test_why_there_is_no_profile(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            empty = self.profile(out / "empty", samples(100.5, rxe_requester=2))
            (out / "none").mkdir()
            (out / "none" / "why").write_text("unattributed: no perf (linux-perf) in this root\n")
            none = attribute.read(out / "none", ["write_lat-2"])
            missing = attribute.read(out / "gone", ["write_lat-2"])
        self.assertEqual(empty["write_lat-64"],
                         {"why": "unattributed: the profile of write_lat-64 has no samples"})
        self.assertEqual(none, {"write_lat-2": {
            "why": "unattributed: no perf (linux-perf) in this root"}})
        self.assertEqual(missing, {"write_lat-2": {
            "why": "unattributed: the profile run left no samples"}})

    def test_the_functions_whose_share_grew_kernel_and_user(self):
        before = {"shares": {"rxe_requester (kernel)": 20.5, "crc32_body (kernel)": 30.0,
                             "ibv_poll_cq (libibverbs.so.1)": 10.0}}
        after = {"shares": {"rxe_requester (kernel)": 35.5, "crc32_body (kernel)": 31.0,
                            "ibv_poll_cq (libibverbs.so.1)": 5.0}}
        none = {"why": "unattributed: no perf (linux-perf) in this root"}
        grew = attribute.grew(before, after)
        self.assertEqual(grew, {"functions": [
            {"function": "rxe_requester (kernel)", "before": 20.5, "after": 35.5},
            {"function": "crc32_body (kernel)", "before": 30.0, "after": 31.0}]})
        self.assertEqual(attribute.describe(grew), "rxe_requester (kernel) 20.5% -> 35.5%, "
                         "crc32_body (kernel) 30.0% -> 31.0%")
        self.assertEqual(attribute.grew(before, none), none)

    def test_only_the_top_five(self):
        before = {"shares": {f"f{k} (kernel)": 1.0 for k in range(8)}}
        after = {"shares": {f"f{k} (kernel)": 1.0 + k for k in range(8)}}
        self.assertEqual([f["function"] for f in attribute.grew(before, after)["functions"]],
                         ["f7 (kernel)", "f6 (kernel)", "f5 (kernel)", "f4 (kernel)",
                          "f3 (kernel)"])


class GuestArgv(unittest.TestCase):
    def guest(self, **more):
        return qemu.Guest(Path("/k"), Path("/i"), "console=ttyS0", **more)

    def test_a_measuring_guest_runs_on_the_instruction_clock_with_one_named_cpu(self):
        args = qemu.argv(self.guest(cpus=1, clock=qemu.InstructionClock()), "tcg")
        self.assertEqual(args[args.index("-accel") + 1], "tcg,thread=single")
        self.assertEqual(args[args.index("-icount") + 1], "shift=0,sleep=off")
        self.assertEqual(args[args.index("-cpu") + 1], "Skylake-Client-v4")
        self.assertEqual(args[args.index("-smp") + 1], "1")
        with self.assertRaisesRegex(ValueError, "one CPU"):
            qemu.argv(self.guest(cpus=2, clock=qemu.InstructionClock()), "tcg")

    def test_functional_guests_keep_multi_threaded_tcg(self):
        args = qemu.argv(self.guest(), "tcg")
        self.assertNotIn("-icount", args)
        self.assertEqual(args[args.index("-accel") + 1], "tcg,thread=multi")

    def test_the_lab_measures_on_the_instruction_clock_and_two_nodes_do_not(self):
        from rdmagate.targets import Lab
        one = Lab("debian-12", "test", guest_cpus=2).for_measuring()
        self.assertEqual((one.exact, one.clock, one.guest_cpus), (True, qemu.InstructionClock(), 1))
        two = Lab("debian-12", "test", nodes=2)
        self.assertIs(two.for_measuring(), two)
        self.assertFalse(two.exact)


if __name__ == "__main__":
    unittest.main()
