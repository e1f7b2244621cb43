"""Hostile package sets: links, then files through them; traversal; absolute
names and links; duplicates; hard links out of the tree. Each set is built
here (.deb files written member by member, .rpm files by rpmbuild), and each
is refused with exit 2 naming the package and the member, with nothing
written outside the cache and nothing left in it."""
import os
import shutil
import stat
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

from rdmagate.errors import UsageError
from rdmagate.stacks.archive import unpack
from tests.package_support import member, write_deb
from tests.support import rdmagate

# climbs from a set's temporary tree (cache/stacks/debs-NAME/KEY/.root.partial-X)
# up to the test's temporary directory
UP = "../../../../../"


def errors(done) -> list[str]:
    """The error lines of a run (its progress lines aside), none a traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if not line.startswith("unpacking ")]


class HostileDebs(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-hostile-")
        top = Path(self.tmp.name)
        self.outside = top / "outside"
        self.outside.mkdir()
        self.victim = top / "victim"
        self.victim.write_text("untouched\n")
        self.set = top / "set"
        self.set.mkdir()
        self.cache = top / "cache"

    def tearDown(self):
        self.tmp.cleanup()

    def fetch(self):
        return rdmagate("stacks", "fetch", f"debs:{self.set}",
                        env={"RDMAGATE_CACHE": str(self.cache)}, timeout=120)

    def assert_refused(self, package: str, name: str, why: str):
        done = self.fetch()
        self.assert_nothing_outside()
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        lines = errors(done)
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertIn(f"{self.set / package}: member {name}: ", lines[0])
        self.assertIn(why, lines[0])
        entry = self.cache / "stacks" / "debs-set"
        left = [p.name for p in entry.rglob("*")] if entry.exists() else []
        self.assertEqual([n for n in left if "partial" in n or n == "root"], [])
        return lines[0]

    def assert_nothing_outside(self):
        self.assertEqual(list(self.outside.iterdir()), [])
        self.assertEqual(self.victim.read_text(), "untouched\n")
        self.assertEqual(self.victim.stat().st_nlink, 1)

    def test_a_link_then_a_file_through_it_from_a_later_package(self):
        # dpkg-deb -x wrote outside/pwned when b had no entry of its own for
        # usr/evil/ (GNU tar replaces a link by a directory entry)
        for entries, name in (((), "./usr/evil/pwned"), ((member("./usr/evil/", "dir"),),
                                                         "./usr/evil")):
            with self.subTest(name=name):
                for old in self.set.iterdir():
                    old.unlink()
                write_deb(self.set / "a_1.0_amd64.deb", "a",
                          [member("./usr/", "dir", mode=0o755),
                           member("./usr/evil", "link", str(self.outside))])
                write_deb(self.set / "b_1.0_amd64.deb", "b",
                          [member("./usr/", "dir", mode=0o755), *entries,
                           member("./usr/evil/pwned")])
                self.assert_refused("b_1.0_amd64.deb", name,
                                    f"usr/evil links to {self.outside}, outside the root")

    def test_the_same_within_one_archive(self):
        write_deb(self.set / "a_1.0_amd64.deb", "a",
                  [member("./usr/evil", "link", str(self.outside)),
                   member("./usr/evil/pwned")])
        self.assert_refused("a_1.0_amd64.deb", "./usr/evil/pwned",
                            f"usr/evil links to {self.outside}, outside the root")

    def test_a_relative_link_that_climbs_out(self):
        write_deb(self.set / "a_1.0_amd64.deb", "a",
                  [member("./usr/up", "link", UP + "../outside"),
                   member("./usr/up/pwned")])
        self.assert_refused("a_1.0_amd64.deb", "./usr/up/pwned",
                            "leads out of the root through a link")

    def test_traversal_with_dot_dot(self):
        write_deb(self.set / "a_1.0_amd64.deb", "a", [member("./" + UP + "outside/pwned")])
        self.assert_refused("a_1.0_amd64.deb", "./" + UP + "outside/pwned",
                            "its name climbs out with '..'")

    def test_an_absolute_member_name(self):
        write_deb(self.set / "a_1.0_amd64.deb", "a", [member(f"{self.outside}/pwned")])
        self.assert_refused("a_1.0_amd64.deb", f"{self.outside}/pwned",
                            "its name is an absolute path")

    def test_a_duplicate_member_in_one_archive(self):
        # the link first, then a file of the same name: never written through
        write_deb(self.set / "a_1.0_amd64.deb", "a",
                  [member("./usr/x", "link", str(self.victim)), member("./usr/x")])
        self.assert_refused("a_1.0_amd64.deb", "./usr/x", "appears twice in the archive")

    def test_a_hard_link_out_of_the_tree(self):
        for name, target in (("a", str(self.victim)), ("b", UP + "victim")):
            with self.subTest(target=target):
                for old in self.set.iterdir():
                    old.unlink()
                write_deb(self.set / f"{name}_1.0_amd64.deb", name,
                          [member("./usr/h", "hard", target)])
                self.assert_refused(f"{name}_1.0_amd64.deb", "./usr/h",
                                    f"its hard link target {target} " +
                                    ("is an absolute path" if name == "a" else "climbs out"))

    def test_a_hard_link_through_a_link_out_of_the_tree(self):
        write_deb(self.set / "a_1.0_amd64.deb", "a",
                  [member("./usr/l", "link", str(self.victim.parent)),
                   member("./usr/h", "hard", "./usr/l/victim")])
        self.assert_refused("a_1.0_amd64.deb", "./usr/h",
                            f"usr/l links to {self.victim.parent}, outside the root")


class WhatIsStillUnpacked(unittest.TestCase):
    """What a set may do: links anywhere (data), links inside the tree
    followed, a later package's file replacing an earlier link."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-sets-")
        self.top = Path(self.tmp.name)
        self.victim = self.top / "victim"
        self.victim.write_text("untouched\n")

    def tearDown(self):
        self.tmp.cleanup()

    def unpack(self, *packages) -> Path:
        debs = [write_deb(self.top / f"p{i}_1.0_amd64.deb", f"p{i}", members)
                for i, members in enumerate(packages)]
        return unpack(debs, self.top / "root")

    def test_links_are_data_and_inside_links_are_followed(self):
        root = self.unpack([member("./usr/lib/", "dir", mode=0o755),
                            member("./usr/lib64", "link", "lib"),
                            member("./usr/abs", "link", str(self.victim))],
                           [member("./usr/lib64/libx.so.1", data=b"x"),
                            member("./usr/lib/liby.so.1", "hard", "./usr/lib64/libx.so.1")])
        self.assertEqual(os.readlink(root / "usr/abs"), str(self.victim))
        self.assertEqual((root / "usr/lib/libx.so.1").read_bytes(), b"x")
        self.assertEqual((root / "usr/lib/liby.so.1").stat().st_ino,
                         (root / "usr/lib/libx.so.1").stat().st_ino)

    def test_a_later_file_replaces_a_link_and_is_not_written_through_it(self):
        root = self.unpack([member("./usr/x", "link", str(self.victim))],
                           [member("./usr/x", data=b"mine\n")])
        self.assertEqual(self.victim.read_text(), "untouched\n")
        self.assertFalse((root / "usr/x").is_symlink())
        self.assertEqual((root / "usr/x").read_bytes(), b"mine\n")

    def test_no_setuid_no_device_nodes_no_fifos(self):
        root = self.unpack([member("./usr/bin/tool", mode=0o4755),
                            member("./usr/share/", "dir", mode=0o2775),
                            member("./usr/fifo", "fifo")])
        self.assertEqual(stat.S_IMODE((root / "usr/bin/tool").stat().st_mode), 0o755)
        self.assertEqual(stat.S_IMODE((root / "usr/share").stat().st_mode), 0o775)
        self.assertFalse((root / "usr/fifo").exists() or (root / "usr/fifo").is_symlink())

    def test_a_time_the_system_cannot_hold_is_left_out(self):
        info, data = member("./usr/late", data=b"late\n")
        info.mtime = 10 ** 20
        root = self.unpack([(info, data)])
        self.assertEqual((root / "usr/late").read_bytes(), b"late\n")

    def test_a_file_where_a_directory_stands(self):
        with self.assertRaises(UsageError) as caught:
            self.unpack([member("./usr/lib/", "dir")], [member("./usr/lib")])
        self.assertIn("p1_1.0_amd64.deb: member ./usr/lib: an earlier member made it a "
                      "directory", str(caught.exception))
        self.assertEqual([p.name for p in self.top.iterdir() if "root" in p.name], [])


SPEC = textwrap.dedent("""\
    %define debug_package %{{nil}}
    %define __os_install_post %{{nil}}
    Name: {name}
    Version: 1.0
    Release: 1
    Summary: crafted
    License: MIT
    AutoReqProv: no
    %description
    crafted for rdmagate's tests
    %install
    mkdir -p %{{buildroot}}/usr
    {install}
    %files
    {files}
    """)


@unittest.skipUnless(shutil.which("rpmbuild") and shutil.which("bsdtar"),
                     "rpmbuild (Debian package rpm) and bsdtar (libarchive-tools) are needed: "
                     "run ci/setup")
class HostileRpms(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-hostile-rpm-")
        self.top = Path(self.tmp.name)
        self.outside = self.top / "outside"
        self.outside.mkdir()
        self.set = self.top / "set"
        self.set.mkdir()

    def tearDown(self):
        self.tmp.cleanup()

    def rpm(self, name: str, install: str, files: str) -> None:
        top = self.top / f"build-{name}"
        spec = self.top / f"{name}.spec"
        spec.write_text(SPEC.format(name=name, install=install, files=files))
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)],
                       check=True, capture_output=True)
        for built in (top / "RPMS").rglob("*.rpm"):
            shutil.copy(built, self.set)

    def test_a_link_then_a_file_through_it_from_a_later_package(self):
        self.rpm("a", f"ln -s {self.outside} %{{buildroot}}/usr/evil", "/usr/evil")
        self.rpm("b", "mkdir -p %{buildroot}/usr/evil && echo pwned > %{buildroot}/usr/evil/pwned",
                 "/usr/evil/pwned")
        done = rdmagate("stacks", "fetch", f"rpms:{self.set}",
                        env={"RDMAGATE_CACHE": str(self.top / "cache")}, timeout=120)
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        (line,) = errors(done)
        self.assertIn(f"{self.set}/b-1.0-1.x86_64.rpm: member ", line)
        self.assertIn(f"usr/evil links to {self.outside}, outside the root", line)
        self.assertEqual(list(self.outside.iterdir()), [])
        left = [p.name for p in (self.top / "cache").rglob("*")]
        self.assertEqual([n for n in left if "partial" in n or n == "root"], [])


if __name__ == "__main__":
    unittest.main()
