"""rdmagate-perf on soft-RoCE in the lab: every sample recorded, sane."""
import os
import shutil
import statistics
import tempfile
import unittest
from pathlib import Path

from runner_support import rdmagate

BUILD = Path(os.environ.get("RDMAGATE_TEST_BUILD_DIR", "/nonexistent"))
PERF = BUILD / "suites" / "perf" / "rdmagate-perf"


def samples(path: Path) -> tuple[str, list[int]]:
    lines = path.read_text().splitlines()
    return lines[0], [int(line) for line in lines[1:]]


@unittest.skipUnless("RDMAGATE_TEST_BUILD_DIR" in os.environ, "run through ctest, which builds it")
@unittest.skipUnless(shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 is not installed")
class NativeBenchmark(unittest.TestCase):
    def test_write_and_send_round_trips_in_the_lab(self):
        with tempfile.TemporaryDirectory() as tmp:
            script = (f"for t in write send; do {PERF} --device rxe0 --test $t --iters 500 "
                      f"--warmup 50 --out {tmp}/$t.txt || exit 1; done; "
                      f"{PERF} --device rxe0 --test bogus --out {tmp}/x.txt; echo usage=$?")
            done = rdmagate("lab", "run", "--stack", "host", "--share", tmp, "--",
                            "sh", "-c", script)
            self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
            self.assertIn("usage=2", done.stdout)
            write_header, write = samples(Path(tmp) / "write.txt")
            _, send = samples(Path(tmp) / "send.txt")
        self.assertIn("test=write size=2 iters=500 warmup=50 clock=CLOCK_MONOTONIC_RAW", write_header)
        self.assertEqual((len(write), len(send)), (500, 500))
        for values in (write, send):
            self.assertTrue(all(v > 0 for v in values))
            self.assertTrue(1_000 < statistics.median(values) < 10_000_000)   # 1 us .. 10 ms


if __name__ == "__main__":
    unittest.main()
