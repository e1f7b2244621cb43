"""The cache is checked before it is trusted: a cached .deb that another
release's file replaced, or that was cut short, is found by the size and
SHA256 of the suite's signed index, said in one line and fetched again.
Real packages of a real suite (bookworm's libibumad3, 60 KB)."""
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.errors import InfraError
from rdmagate.paths import cache_dir
from rdmagate.stacks.archive import Archive

PACKAGE = ("libibumad3", "44.0-2")
FILE = "libibumad3_44.0-2_amd64.deb"
OTHER_RELEASE = ("libibumad3", "33.2-1")     # debian-11's


def version_of(deb: Path) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True,
                          text=True, check=True).stdout.strip()


class CachedDebs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            Archive("bookworm").update()
            (cls.other,) = Archive("bullseye").download([OTHER_RELEASE])
        except InfraError as err:
            raise unittest.SkipTest(f"the Debian archive cannot be reached: {err}") from None
        cls.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-cached-")
        cls.cache = Path(cls.tmp.name)
        # bookworm's lists as apt fetched and checked them, without their debs
        shutil.copytree(cache_dir() / "apt" / "bookworm", cls.cache / "apt" / "bookworm",
                        ignore=shutil.ignore_patterns(".lock", "archives", "*.bin"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        shutil.rmtree(self.cache / "debs", ignore_errors=True)
        self.said = []
        self.archive = Archive("bookworm", cache=self.cache, say=self.said.append)
        self.deb = self.cache / "debs" / "bookworm" / FILE
        self.deb.parent.mkdir(parents=True)

    def test_another_release_under_this_name_is_fetched_again(self):
        shutil.copy(self.other, self.deb)
        self.assertEqual(version_of(self.deb), "33.2-1")
        (got,) = self.archive.download([PACKAGE])
        self.assertEqual(version_of(got), "44.0-2")
        size = self.other.stat().st_size
        self.assertEqual(self.said, [f"cached {FILE} has {size} bytes where the bookworm "
                                     f"index says {got.stat().st_size}: fetching it again",
                                     "downloading 1 packages from bookworm: libibumad3=44.0-2"])

    def test_a_changed_byte_is_fetched_again(self):
        (good,) = Archive("bookworm").download([PACKAGE])
        data = bytearray(good.read_bytes())
        data[len(data) // 2] ^= 1
        self.deb.write_bytes(bytes(data))
        (got,) = self.archive.download([PACKAGE])
        self.assertEqual(got.read_bytes(), good.read_bytes())
        checked = [line for line in self.said if line.startswith("cached ")]
        self.assertEqual(checked, [f"cached {FILE} does not have the SHA256 the bookworm index "
                                   "gives: fetching it again"])

    def test_a_truncated_one_is_fetched_again(self):
        (good,) = Archive("bookworm").download([PACKAGE])
        self.deb.write_bytes(good.read_bytes()[:20000])
        (got,) = self.archive.download([PACKAGE])
        self.assertEqual(version_of(got), "44.0-2")
        self.assertEqual(got.stat().st_size, good.stat().st_size)
        checked = [line for line in self.said if line.startswith("cached ")]
        self.assertEqual(checked, [f"cached {FILE} has 20000 bytes where the bookworm index "
                                   f"says {good.stat().st_size}: fetching it again"])

    def test_a_good_one_is_reused(self):
        (good,) = Archive("bookworm").download([PACKAGE])
        shutil.copy(good, self.deb)
        before = self.deb.stat().st_ino
        (got,) = self.archive.download([PACKAGE])
        self.assertEqual((got, got.stat().st_ino), (self.deb, before))
        self.assertEqual(self.said, [])


if __name__ == "__main__":
    unittest.main()
