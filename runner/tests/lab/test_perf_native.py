"""rdmagate-perf on soft-RoCE in the lab: every test runs, every sample is
recorded and sane, exit statuses mean what they say, and the slowdown shim's
injected delay shows in the samples, and a post that moves a byte fewer
(the shim's RDMAGATE_SHORTEN_BYTES) is a data-check failure, not a latency."""
import statistics
import tempfile
import unittest
from pathlib import Path

from tests.support import BUILD_DIR, BUILT, HAVE_QEMU, rdmagate

PERF = BUILD_DIR / "suites" / "perf" / "rdmagate-perf"
SHIM = BUILD_DIR / "suites" / "perf" / "librdmagate-slowdown.so"

TESTS = ("write", "write_inline", "send", "read", "atomic_cas", "atomic_faa",
         "write_batch", "write_wr", "reg_mr", "poll_cq")
SIZE = {"atomic_cas": 8, "atomic_faa": 8, "poll_cq": 0}   # others: the default, 2
ITERS, WARMUP, SLOWDOWN_NS = 300, 30, 20_000
SHORTENED = ("write", "send", "read")   # the tests whose data check is shown failing


def samples(path: Path) -> tuple[str, list[int]]:
    lines = path.read_text().splitlines()
    return lines[0], [int(line) for line in lines[1:]]


def header(test: str, size: int, iters: int = ITERS, warmup: int = WARMUP) -> str:
    line = (f"# rdmagate-perf test={test} size={size} iters={iters} warmup={warmup} "
            "clock=CLOCK_MONOTONIC_RAW unit=ns")
    return line + " batch=16" if test == "write_batch" else line


@unittest.skipUnless(BUILT, "run through ctest, which builds it")
@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class NativeBenchmark(unittest.TestCase):
    """One lab boot (about 10 s under TCG) runs everything."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = cls.tmp.name
        run = f"{PERF} --device rxe0 --iters {ITERS} --warmup {WARMUP}"
        slow = f"LD_PRELOAD={SHIM} RDMAGATE_SLOWDOWN_NS={SLOWDOWN_NS} {run}"
        steps = [(t, f"{run} --test {t} --out {tmp}/{t}.txt") for t in TESTS] + [
            ("reg_mr_1m", f"{run} --test reg_mr --size 1048576 --out {tmp}/reg_mr_1m.txt"),
            ("slow_write", f"{slow} --test write --out {tmp}/slow_write.txt"),
            ("slow_write_wr", f"{slow} --test write_wr --out {tmp}/slow_write_wr.txt"),
            ("bad_env", f"LD_PRELOAD={SHIM} RDMAGATE_SLOWDOWN_NS=20us {run} --test write "
                        f"--out {tmp}/bad_env.txt"),
            ("bad_gid", f"{run} --test write --gid-index 200 --out {tmp}/bad_gid.txt"),
        ] + [(f"short_{t}", f"LD_PRELOAD={SHIM} RDMAGATE_SHORTEN_BYTES=1 {PERF} --device rxe0 "
                            f"--iters 5 --warmup 1 --test {t} --out {tmp}/short_{t}.txt")
             for t in SHORTENED]
        # stderr into stdout, so each message lands next to its status line
        script = "".join(f'{cmd} 2>&1; echo "status {name}=$?"\n' for name, cmd in steps)
        Path(tmp, "run.sh").write_text(script)
        cls.done = rdmagate("lab", "run", "--stack", "host", "--share", tmp, "--",
                            "sh", f"{tmp}/run.sh")
        cls.out = cls.done.stdout + cls.done.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def status(self, name: str) -> int:
        for line in self.out.splitlines():
            if line.startswith(f"status {name}="):
                return int(line.split("=", 1)[1])
        self.fail(f"no status for {name}:\n{self.out}")

    def load(self, name: str) -> list[int]:
        self.assertEqual(self.status(name), 0, self.out)
        return samples(Path(self.tmp.name, f"{name}.txt"))[1]

    def median(self, name: str) -> float:
        return statistics.median(self.load(name))

    def test_the_lab_ran(self):
        self.assertEqual(self.done.returncode, 0, self.out)

    def test_every_test_records_every_sample_under_its_header(self):
        for test in TESTS:
            with self.subTest(test=test):
                self.assertEqual(self.status(test), 0, self.out)
                head, values = samples(Path(self.tmp.name, f"{test}.txt"))
                self.assertEqual(head, header(test, SIZE.get(test, 2)))
                self.assertEqual(len(values), ITERS)
                self.assertTrue(all(v > 0 for v in values), values)
                if test != "poll_cq":    # a round trip or a registration: 1 us .. 10 ms
                    self.assertTrue(1_000 < statistics.median(values) < 10_000_000, values)

    def test_figures_relate_as_the_operations_do(self):
        write = self.median("write")
        # Polling an empty CQ never reaches the device: cheaper than a round trip.
        self.assertLess(self.median("poll_cq"), write)
        # Soft-RoCE spends CPU on every message: a batch of 16 takes longer than
        # two round trips, yet one message of it less than two round trips.
        batch = self.median("write_batch")
        self.assertGreater(batch * 16, 2 * write)
        self.assertLess(batch, 2 * write)
        # Registering 1 MiB pins 256 pages, 2 bytes one.
        self.assertGreater(self.median("reg_mr_1m"), self.median("reg_mr"))
        self.assertEqual(samples(Path(self.tmp.name, "reg_mr_1m.txt"))[0],
                         header("reg_mr", 1048576))

    def test_the_slowdown_shim_delays_each_post_by_its_amount(self):
        self.assertIn(f"librdmagate-slowdown: rxe0: ibv_post_send slowed by {SLOWDOWN_NS} ns",
                      self.out)
        grown = self.median("slow_write") - self.median("write")
        self.assertGreater(grown, SLOWDOWN_NS / 2)
        self.assertLess(grown, SLOWDOWN_NS * 3)
        # ibv_wr_* does not go through ops.post_send: write_wr stays fast,
        # which also shows it really posts through the extended QP.
        self.assertLess(self.median("slow_write_wr"), self.median("slow_write") - SLOWDOWN_NS / 2)

    def test_failures_exit_1_on_one_line_naming_the_call(self):
        self.assertEqual(self.status("bad_env"), 1, self.out)
        self.assertIn("librdmagate-slowdown: RDMAGATE_SLOWDOWN_NS is not a number", self.out)
        self.assertIn("rdmagate-perf: rxe0: Invalid argument (errno 22)", self.out)
        self.assertEqual(self.status("bad_gid"), 1, self.out)
        # A GID index past the table: which verb refuses it depends on the stack.
        self.assertRegex(self.out, r"(?m)^rdmagate-perf: ibv_\w+[^:\n]*: [^\n]+ \(errno [1-9]\d*\)\n"
                                   r"status bad_gid=1$")
        for name in ("bad_env", "bad_gid"):
            self.assertFalse(Path(self.tmp.name, f"{name}.txt").exists())

    def test_a_post_that_moves_a_byte_fewer_fails_the_data_check(self):
        """WRITE, SEND and READ of 2 bytes each posted 1 byte short: exit 1
        with the byte that did not arrive (pattern byte 1 is 0x38, the
        destination was 0x5a), and no samples written."""
        self.assertIn("librdmagate-slowdown: rxe0: each ibv_post_send request shortened "
                      "by 1 bytes", self.out)
        for test in SHORTENED:
            with self.subTest(test=test):
                half = "local" if test == "read" else "remote"
                self.assertIn("rdmagate-perf: data check after the last sample: byte 1 of 2 "
                              f"in the {half} half is 0x5a, expected 0x38: the data did not "
                              f"arrive\nstatus short_{test}=1\n", self.out)
                self.assertFalse(Path(self.tmp.name, f"short_{test}.txt").exists())


if __name__ == "__main__":
    unittest.main()
