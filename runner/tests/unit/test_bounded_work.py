"""Work rdmagate does on input it is handed is bounded: a file is read only
when it is a regular file, and only up to a size; a decompression stops at
its bound; an external tool gets a time limit, and a tool that crashes is
named with its signal. Each case is one that hung rdmagate, exhausted its
memory or read a crash as a verdict."""
import lzma
import os
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

from rdmagate import files, tools
from rdmagate.errors import InfraError, UsageError
from tests.support import build_fake_stack, rdmagate

STEP = 120   # a bound for the test itself: what hung before never ended


class Bounded(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-bounds-")
        self.dir = Path(self.tmp.name)
        self.fifo = self.dir / "fifo"
        os.mkfifo(self.fifo)
        self.addCleanup(self.unblock, self.fifo)

    def tearDown(self):
        self.tmp.cleanup()

    @staticmethod
    def unblock(fifo: Path):
        """Open a FIFO's write side without blocking, so a reader stuck on it
        (the code before this bound) sees its end and the test can finish."""
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    def one_line(self, done: subprocess.CompletedProcess, code: int, *words: str):
        self.assertEqual(done.returncode, code, done.stderr)
        lines = [line for line in done.stderr.splitlines()
                 if line.startswith("rdmagate: error")]
        self.assertEqual(len(lines), 1, done.stderr)
        for word in words:
            self.assertIn(word, lines[0])

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return rdmagate(*args, timeout=STEP)
        except subprocess.TimeoutExpired:
            self.fail(f"rdmagate {' '.join(args)} did not end in {STEP} s")

    def test_baseline_show_refuses_a_fifo_and_a_device(self):
        self.one_line(self.cli("baseline", "show", str(self.fifo)), 2, str(self.fifo), "FIFO")
        self.one_line(self.cli("baseline", "show", "/dev/zero"), 2, "/dev/zero",
                      "character device")

    def test_a_module_that_expands_past_the_bound_is_refused(self):
        packed = self.dir / "big.ko.xz"
        packed.write_bytes(lzma.compress(b"\0" * (4 << 20), preset=9))
        with self.assertRaisesRegex(UsageError, rf"^{packed}: .*expands past the 1048576 bytes"):
            files.read_unpacked(packed, "a kernel module", 1 << 20)

    def test_kabi_refuses_a_bomb_a_link_to_dev_zero_and_a_fifo(self):
        bomb = self.dir / "bomb" / "bomb.ko.xz"
        bomb.parent.mkdir()
        # past the bound (1 GiB) in a few hundred KB, as the 460 KB module
        # that expanded to 3 GB and exhausted memory
        with open(bomb, "wb") as out:   # xz's threads: four times faster than lzma's one
            packer = subprocess.Popen(["xz", "-0", "-T2", "-c"], stdin=subprocess.PIPE,
                                      stdout=out)
            block = b"\0" * (64 << 20)
            for _ in range(18):   # 1152 MiB, past the 1 GiB bound
                packer.stdin.write(block)
            packer.stdin.close()
            self.assertEqual(packer.wait(), 0)
        zero = self.dir / "zero" / "zero.ko"
        zero.parent.mkdir()
        zero.symlink_to("/dev/zero")
        among = self.dir / "among" / "zero.ko.xz"   # found by the directory's search
        among.parent.mkdir()
        among.symlink_to("/dev/zero")
        fifo = self.dir / "fifo-dir" / "mod.ko"
        fifo.parent.mkdir()
        os.mkfifo(fifo)
        self.addCleanup(self.unblock, fifo)
        for given, words in ((bomb.parent, (str(bomb), "expands past")),
                             (zero, (str(zero), "device")),
                             (among.parent, (str(among), "device")),
                             (fifo.parent, (str(fifo), "FIFO"))):
            with self.subTest(modules=str(given)):
                done = self.cli("kabi", "--from", "debian-12", "--to", "debian-13",
                                "--modules", str(given), "--results", str(self.dir / "results"))
                self.one_line(done, 2, *words)

    def test_a_fifo_among_providers_or_as_a_consumer_deb_is_refused(self):
        old = build_fake_stack(self.dir / "old", {"IBVERBS_1.0": ["ibv_foo"]})
        new = build_fake_stack(self.dir / "new", {"IBVERBS_1.0": ["ibv_foo"]})
        providers = self.dir / "providers"
        providers.mkdir()
        os.mkfifo(providers / "libvendor-rdmav34.so")
        self.addCleanup(self.unblock, providers / "libvendor-rdmav34.so")
        deb = self.dir / "tool.deb"
        os.mkfifo(deb)
        self.addCleanup(self.unblock, deb)
        common = ("abi", "--from", f"prefix:{old}", "--to", f"prefix:{new}",
                  "--results", str(self.dir / "results"))
        with self.subTest("--providers"):
            self.one_line(self.cli(*common, "--no-consumers", "--providers", str(providers)), 2,
                          "libvendor-rdmav34.so", "FIFO")
        with self.subTest("--consumers"):
            self.one_line(self.cli(*common, "--consumers", str(deb)), 2, str(deb), "FIFO")


class Tools(unittest.TestCase):
    def test_a_tool_past_its_limit_is_killed_and_named_with_the_limit(self):
        with self.assertRaisesRegex(InfraError, r"^the waiter: sleep did not end within its "
                                    r"time limit of 0\.5 s"):
            tools.run(["sleep", "60"], 0.5, what="the waiter")

    def test_the_children_of_a_tool_are_killed_with_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            mark = Path(tmp) / "pid"
            with self.assertRaises(tools.Killed):
                tools.run(["sh", "-c", f"sleep 60 & echo $! > {mark}; wait"], 1)
            pid = int(mark.read_text())
            # killed by the group kill: gone once its parent (init) reaps it
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                threading.Event().wait(0.1)
            else:
                self.fail(f"sleep {pid} outlived its tool")

    def test_a_crash_is_named_with_its_signal(self):
        with self.assertRaisesRegex(InfraError, r"^sh: sh crashed \(SIGSEGV\)$"):
            tools.run(["sh", "-c", "kill -SEGV $$"], 10)

    def test_output_past_the_bound_is_refused(self):
        with self.assertRaisesRegex(UsageError, r"wrote more than the 1000 bytes"):
            tools.run(["yes"], 10, max_output=1000)

    def test_input_and_output_of_any_size_pass_through(self):
        data = os.urandom(3 << 20)
        done = tools.run(["cat"], 60, input=data, text=False)
        self.assertEqual((done.returncode, done.stdout), (0, data))


class AbidiffCrash(unittest.TestCase):
    def test_a_suppression_abidiff_crashes_on_is_a_crash_not_a_verdict(self):
        """abidiff 2.2's ini reader dereferences a missing value when one
        starts with '[' (SIGSEGV)."""
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            old = build_fake_stack(root / "old", {"IBVERBS_1.0": ["ibv_foo", "ibv_bar"]})
            new = build_fake_stack(root / "new", {"IBVERBS_1.0": ["ibv_foo"]})
            supp = root / "crash.suppr"
            supp.write_text("[suppress_function]\n  symbol_name_regexp = [a-z]+\n")
            done = rdmagate("abi", "--from", f"prefix:{old}", "--to", f"prefix:{new}",
                            "--no-consumers", "--no-default-suppressions",
                            "--suppressions", str(supp), "--results", str(root / "results"))
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("abidiff crashed (SIGSEGV)", done.stderr)


if __name__ == "__main__":
    unittest.main()
