"""A package set (debs:DIR) whose C library floor is above the host's runs in
a root file system of the oldest known suite that meets it: the choice
against the real archive, the set no suite can run (exit 2), and laying the
set over the root file system without writing through a link."""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.errors import UsageError
from rdmagate.stacks import resolve
from rdmagate.stacks.archive import Archive
from rdmagate.stacks.rootfs import choose_suite, depends, overlay, suite_glibc, unmet
from tests.support import build_library, rdmagate

SUITES = ["bullseye", "bookworm", "trixie", "sid"]


def sid_libibverbs() -> Path:
    (deb,) = Archive("sid").download([(n, v) for n, v in resolve("debian-sid").packages
                                      if n == "libibverbs1"])
    return deb


class SuiteChoice(unittest.TestCase):
    """The Debian archive's own libc6 versions."""

    def test_the_oldest_suite_whose_glibc_meets_the_floor(self):
        self.assertEqual(choose_suite("s", "2.31", SUITES, suite_glibc), "bullseye")
        self.assertEqual(choose_suite("s", "2.37", SUITES, suite_glibc), "trixie")
        self.assertEqual(choose_suite("s", "2.38", SUITES[:2] + SUITES[3:], suite_glibc), "sid")

    def test_no_suite_new_enough(self):
        with self.assertRaises(UsageError) as caught:
            choose_suite("debs:/x", "9.99", SUITES, suite_glibc)
        self.assertIn(f"needs glibc 9.99; the newest known suite, sid, has glibc "
                      f"{suite_glibc('sid')}", str(caught.exception))

    def test_a_versioned_dependency_the_suite_cannot_meet(self):
        # sid's libibverbs1 needs libnl-3-200 >= 3.11; trixie has 3.7: its
        # libibverbs would warn "no version information available" there
        wanted = depends([sid_libibverbs()])
        self.assertIn(("libnl-3-200", ">= 3.11.0"), wanted)
        self.assertIn("libnl-3-200 (>= 3.11.0): trixie has 3.7", unmet("trixie", wanted))
        self.assertIsNone(unmet("sid", wanted))
        said = []
        self.assertEqual(choose_suite("s", "2.38", SUITES, suite_glibc,
                                      lambda s: unmet(s, wanted), said.append), "sid")
        self.assertIn("trixie cannot run s: libnl-3-200", said[-1])
        with self.assertRaises(UsageError) as caught:
            choose_suite("s", "2.38", SUITES[:3], suite_glibc, lambda s: unmet(s, wanted))
        self.assertIn("but not its Depends (libnl-3-200 (>= 3.11.0): trixie has 3.7",
                      str(caught.exception))


def build_deb(tree: Path, name: str, out: Path) -> Path:
    (tree / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: t <t@example.org>\n"
        "Depends: libc6 (>= 9.99)\nDescription: crafted for rdmagate's tests\n")
    deb = out / f"{name}_1.0-1_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(deb)], check=True,
                   capture_output=True)
    return deb


class NoSuiteNewEnough(unittest.TestCase):
    def test_exit_2_naming_the_floor_and_the_newest_suites_glibc(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            # a libibverbs.so.1 that needs GLIBC_9.99 of a stub libc.so.6
            (tmp / "stub").mkdir()
            stub = build_library(tmp / "stub" / "libc.so.6", {"GLIBC_9.99": ["rg_future"]})
            libdir = tmp / "pkg" / "usr" / "lib" / "x86_64-linux-gnu"
            libdir.mkdir(parents=True)
            build_library(libdir / "libibverbs.so.1", {"IBVERBS_1.0": ["ibv_get_device_list"]},
                          "int rg_future(void);\nint ibv_get_device_list(void) "
                          "{ return rg_future(); }\n", links=(stub,))
            (tmp / "set").mkdir()
            build_deb(tmp / "pkg", "libibverbs1", tmp / "set")
            # the user's cache: its suites' package lists are read already
            done = rdmagate("stacks", "fetch", f"debs:{tmp / 'set'}")
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertNotIn("Traceback", done.stderr)
            line = done.stderr.strip().splitlines()[-1]
            self.assertEqual(line, f"rdmagate: error: stack debs:{(tmp / 'set').resolve()} needs "
                             f"glibc 9.99; the newest known suite, sid, has glibc "
                             f"{suite_glibc('sid')}: no root file system can run it")


def snapshot(top: Path, skip: Path) -> dict:
    """Every path under top but skip, with what it is and holds."""
    seen = {}
    for here, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(here) / name
            if path == skip or skip in path.parents:
                continue
            seen[str(path)] = (os.readlink(path) if path.is_symlink() else
                               path.read_bytes() if path.is_file() else "dir")
    return seen


class OverlayNeverWritesThroughALink(unittest.TestCase):
    """Every link points at a sibling inside the test's own temporary
    directory, so even a broken overlay can only write in there."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        top = Path(self.tmp.name)
        self.top, self.root, self.set = top, top / "rootfs", top / "set"
        for sibling in ("outside-rel", "outside-abs", "outside-set"):
            (top / sibling).mkdir()
            (top / sibling / "keep").write_text("untouched\n")
        (self.root / "usr" / "lib").mkdir(parents=True)
        (self.root / "etc").mkdir()
        os.symlink("usr/lib", self.root / "lib")                            # merged /usr
        os.symlink("../../outside-rel", self.root / "etc" / "libibverbs.d")  # .. past the root
        os.symlink(str(top / "outside-abs"), self.root / "usr" / "lib" / "x86_64-linux-gnu")
        os.symlink(str(top / "outside-abs" / "keep"), self.root / "usr" / "lib" / "file")
        (self.set / "etc" / "libibverbs.d").mkdir(parents=True)
        (self.set / "etc" / "libibverbs.d" / "acme.driver").write_text("driver acme\n")
        (self.set / "usr" / "lib" / "x86_64-linux-gnu").mkdir(parents=True)
        (self.set / "usr" / "lib" / "x86_64-linux-gnu" / "libibverbs.so.1").write_text("lib\n")
        (self.set / "usr" / "lib" / "file").write_text("the set's\n")
        (self.set / "lib" / "udev").mkdir(parents=True)
        (self.set / "lib" / "udev" / "rule").write_text("rule\n")
        os.symlink("../../../outside-set", self.set / "usr" / "lib" / "escape")
        (self.set / "usr" / "lib" / "x86_64-linux-gnu" / "keep").write_text("the set's\n")

    def tearDown(self):
        self.tmp.cleanup()

    def test_nothing_outside_the_root_changes(self):
        before = snapshot(self.top, self.root)
        overlay(self.set, self.root)
        self.assertEqual(snapshot(self.top, self.root), before)
        root = self.root
        # links of the root file system are read as a chroot reads them
        self.assertEqual((root / "outside-rel" / "acme.driver").read_text(), "driver acme\n")
        abs_dir = root / str(self.top / "outside-abs").lstrip("/")
        self.assertEqual((abs_dir / "libibverbs.so.1").read_text(), "lib\n")
        self.assertEqual((abs_dir / "keep").read_text(), "the set's\n")
        self.assertEqual((root / "usr" / "lib" / "udev" / "rule").read_text(), "rule\n")
        # a link at the destination is replaced by the set's file, not written through
        self.assertFalse((root / "usr" / "lib" / "file").is_symlink())
        self.assertEqual((root / "usr" / "lib" / "file").read_text(), "the set's\n")
        # the set's own link is copied as a link
        self.assertEqual(os.readlink(root / "usr" / "lib" / "escape"), "../../../outside-set")

    def test_a_set_entry_that_is_not_a_file_is_refused(self):
        os.mkfifo(self.set / "usr" / "lib" / "fifo")
        with self.assertRaises(UsageError) as caught:
            overlay(self.set, self.root)
        self.assertIn("fifo: not a regular file, directory or link", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
