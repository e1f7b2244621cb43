"""Bad input to rdmagate stacks: one clear line, exit 2 (user) or 3 (environment)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from rdmagate.paths import cache_dir
from rdmagate.stacks import fetch, is_fetched, resolve
from rdmagate.stacks.fetch import stack_cache
from tests.support import RDMAGATE, REPO_ROOT, UNREACHABLE_MIRROR, rdmagate


def write_manifest(directory: Path, text: str) -> Path:
    path = directory / "broken.yaml"
    path.write_text(text)
    return path


GOOD = (REPO_ROOT / "stacks" / "debian-12.yaml").read_text()


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def assert_error(self, done, code, text):
        self.assertEqual(done.returncode, code, done.stderr)
        # progress lines may come first; the error is one line, and the last
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        self.assertEqual(len(errors), 1, done.stderr)
        self.assertEqual(errors[0], done.stderr.strip().splitlines()[-1])
        self.assertIn(text, errors[0])

    def test_unknown_stack(self):
        self.assert_error(rdmagate("stacks", "show", "debian-99"), 2, "unknown stack 'debian-99'")

    def test_manifest_missing_field(self):
        path = write_manifest(self.dir, GOOD.replace("suite: bookworm\n", ""))
        self.assert_error(rdmagate("stacks", "show", str(path)), 2, f"{path}: field suite: missing")

    def test_manifest_mistyped_field(self):
        path = write_manifest(self.dir, GOOD.replace("packages:", "pakages:"))
        self.assert_error(rdmagate("stacks", "show", str(path)), 2,
                          f"{path}: field pakages: unknown field")

    def test_manifest_package_without_version(self):
        path = write_manifest(self.dir, GOOD.replace("{name: perftest, version: 4.5+0.17-1}",
                                                     "{name: perftest}"))
        index = [line.strip() for line in GOOD.splitlines()
                 if line.strip().startswith("- {name:")].index("- {name: perftest, version: 4.5+0.17-1}")
        self.assert_error(rdmagate("stacks", "show", str(path)), 2,
                          f"field packages[{index}]: must be")

    def test_version_the_archive_does_not_have(self):
        path = write_manifest(self.dir, GOOD.replace("name: debian-12", "name: debian-12-bad")
                              .replace("{name: libibverbs1, version: 44.0-2}",
                                       "{name: libibverbs1, version: 9.9-9}"))
        done = rdmagate("stacks", "fetch", str(path), env={"RDMAGATE_CACHE": str(self.dir / "c")},
                        timeout=300)
        self.assert_error(done, 2, "has no such package version")
        self.assertIn("9.9-9", done.stderr)

    def test_prefix_without_libibverbs(self):
        (self.dir / "usr" / "lib").mkdir(parents=True)
        self.assert_error(rdmagate("stacks", "show", f"prefix:{self.dir}"), 2,
                          "no libibverbs.so.1 in")

    def test_prefix_that_does_not_exist(self):
        self.assert_error(rdmagate("stacks", "show", "prefix:/nonexistent/ofed"), 2,
                          "is not a directory")

    def test_no_network(self):
        done = rdmagate("stacks", "fetch", "debian-11",
                        env={"RDMAGATE_CACHE": str(self.dir / "c"), "RDMAGATE_MIRROR": UNREACHABLE_MIRROR})
        self.assert_error(done, 3, "cannot read the bullseye package lists")
        self.assertFalse(is_fetched(resolve("debian-11"), cache=self.dir / "c"))

    def test_stale_lists_are_read_again_before_saying_no(self):
        from rdmagate.errors import UsageError
        from rdmagate.stacks.archive import Archive
        fetch(resolve("debian-12"))  # the shared cache has bookworm's lists
        shutil.copytree(cache_dir() / "apt" / "bookworm", self.dir / "apt" / "bookworm",
                        ignore=shutil.ignore_patterns(".lock", "archives"))
        archive = Archive("bookworm", cache=self.dir)
        with self.assertRaisesRegex(UsageError, "libibverbs1"):
            archive.download([("libibverbs1", "9.9-9")])
        self.assertTrue(archive.fresh, "the copied lists were not read again")


class InterruptedFetch(unittest.TestCase):
    """A fetch killed while unpacking never leaves a complete-looking entry,
    and the next fetch sweeps its leftovers and completes."""

    def test_sigkill_during_unpack(self):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            stack = resolve("debian-12")
            # the .debs come from the shared cache; only the unpack is cut
            debs = cache_dir() / "debs"
            fetch(stack)  # make sure they are there
            shutil.copytree(debs, cache / "debs")
            # and the signed lists a cached .deb is checked against (read
            # from the same mirror: nothing goes to the network)
            shutil.copytree(cache_dir() / "apt" / stack.suite, cache / "apt" / stack.suite,
                            ignore=shutil.ignore_patterns(".lock", "archives"))
            entry = stack_cache(stack, cache)
            env = dict(os.environ, RDMAGATE_CACHE=str(cache))
            proc = subprocess.Popen([sys.executable, str(RDMAGATE), "stacks", "fetch", "debian-12"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not list(entry.glob(".root.partial-*/usr")):
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.assertTrue(list(entry.glob(".root.partial-*")), "killed too late to test")
            self.assertFalse((entry / "root").exists())
            self.assertFalse(is_fetched(stack, cache=cache))
            # again, to the end: leftovers gone, the entry complete
            done = subprocess.run([sys.executable, str(RDMAGATE), "stacks", "fetch", "debian-12"],
                                  env=env, capture_output=True, text=True, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(list(entry.glob(".root.partial-*")), [])
            self.assertTrue((entry / "root/usr/include/infiniband/verbs.h").is_file())

    def test_sigkill_during_download(self):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            stack = resolve("debian-12")
            fetch(stack)  # the shared cache has the package lists; reuse them
            shutil.copytree(cache_dir() / "apt" / stack.suite, cache / "apt" / stack.suite,
                            ignore=shutil.ignore_patterns(".lock", "archives"))
            debs = cache / "debs" / stack.suite
            env = dict(os.environ, RDMAGATE_CACHE=str(cache))
            # its own session: the kill takes apt-get with it, as a Ctrl-C would
            proc = subprocess.Popen([sys.executable, str(RDMAGATE), "stacks", "fetch", "debian-12"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not list(debs.glob(".partial-*")):
                time.sleep(0.002)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            self.assertTrue(list(debs.glob(".partial-*")), "killed too late to test")
            self.assertEqual(list(debs.glob("*.deb")), [])
            self.assertFalse(is_fetched(stack, cache=cache))
            done = subprocess.run([sys.executable, str(RDMAGATE), "stacks", "fetch", "debian-12"],
                                  env=env, capture_output=True, text=True, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(list(debs.glob(".partial-*")), [])
            self.assertEqual(len(list(debs.glob("*.deb"))), len(stack.packages))
            self.assertTrue(is_fetched(stack, cache=cache))


if __name__ == "__main__":
    unittest.main()
