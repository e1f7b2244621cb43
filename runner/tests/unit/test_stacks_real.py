"""Real Debian stacks, fetched from the archive: facts read from the packages.

Each expected fact comes from an independent source (dpkg-deb's own listing
of a package, binutils' readelf, the package's version), not from a table in
the code under test."""
import re
import subprocess
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, inventory, resolve
from rdmagate.stacks.archive import Archive
from rdmagate.stacks.glibc import host_glibc, newer
from rdmagate.stacks.rootfs import missing_extra
from tests.support import UNREACHABLE_MIRROR, readelf_versions


def fetched_inventory(name: str) -> tuple:
    stack = resolve(name)
    got = fetch(stack)
    return stack, got, inventory(got)


def provider_files_in_deb(stack) -> set[str]:
    """Provider names as dpkg-deb lists the ibverbs-providers package."""
    version = dict(stack.packages)["ibverbs-providers"]
    (deb,) = Archive(stack.suite).download([("ibverbs-providers", version)])
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    return set(re.findall(r"/libibverbs/lib([\w-]+?)-rdmav\d+\.so", listing))


def readelf_defined(path: Path) -> set[str]:
    return readelf_versions(path)[""]


class Debian12And13(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s12, cls.f12, cls.i12 = fetched_inventory("debian-12")
        cls.s13, cls.f13, cls.i13 = fetched_inventory("debian-13")

    def test_sonames(self):
        for inv in (self.i12, self.i13):
            libs = inv["libraries"]
            self.assertEqual((libs["libibverbs"]["soname"], libs["librdmacm"]["soname"],
                              libs["libibumad"]["soname"]),
                             ("libibverbs.so.1", "librdmacm.so.1", "libibumad.so.3"))

    def test_version_nodes_match_readelf_and_split_public_private(self):
        for fetched, inv in ((self.f12, self.i12), (self.f13, self.i13)):
            lib = inv["libraries"]["libibverbs"]
            nodes = readelf_defined(fetched.root / lib["file"]) - {"libibverbs.so.1"}
            self.assertEqual(set(lib["public_versions"]) | set(lib["private_versions"]), nodes)
            self.assertIn("IBVERBS_1.1", lib["public_versions"])
            self.assertTrue(all(v.startswith("IBVERBS_PRIVATE_") for v in lib["private_versions"]))
            self.assertFalse(any("PRIVATE" in v for v in lib["public_versions"]))

    def test_every_public_library_of_the_packages_is_inventoried(self):
        for stack, fetched, inv in ((self.s12, self.f12, self.i12), (self.s13, self.f13, self.i13)):
            libdir = fetched.root / "usr/lib/x86_64-linux-gnu"
            # the sonames the packages ship, as the file system has them
            shipped = {p.name.split(".so")[0] for p in libdir.glob("lib*.so.[0-9]")
                       if re.fullmatch(r"lib\w+\.so\.\d+", p.name)}
            self.assertEqual({n for n, lib in inv["libraries"].items() if lib}, shipped)
            # a direct-verbs and the two management libraries (libibnetdisc5t64 from 56.1)
            for name in ("libmlx5", "libibmad", "libibnetdisc"):
                self.assertIn(name, shipped)
                lib = inv["libraries"][name]
                self.assertEqual(set(lib["public_versions"]),
                                 readelf_defined(fetched.root / lib["file"]) - {lib["soname"]})
                self.assertTrue(lib["public_versions"], name)

    def test_every_provider_is_built_for_its_own_libibverbs_private_abi(self):
        for inv in (self.i12, self.i13):
            (private,) = inv["libraries"]["libibverbs"]["private_versions"]
            abi = int(private.rsplit("_", 1)[1])
            for name, provider in inv["providers"].items():
                self.assertEqual(provider["private_abi"], abi, name)
                self.assertEqual(provider["file_abi"], abi, name)

    def test_provider_set_is_what_the_package_ships(self):
        for stack, inv in ((self.s12, self.i12), (self.s13, self.i13)):
            self.assertEqual(set(inv["providers"]), provider_files_in_deb(stack))
            self.assertLessEqual(set(inv["drivers"]), set(inv["providers"]) | {"ipathverbs"})

    def test_libc_floor_decides_the_root_file_system(self):
        self.assertFalse(newer(self.i12["glibc_floor"], host_glibc()))
        self.assertFalse(self.f12.needs_rootfs)
        self.assertIsNone(self.f12.rootfs)
        self.assertEqual(self.i13["glibc_floor"], "2.38")
        self.assertTrue(newer(self.i13["glibc_floor"], host_glibc()))
        self.assertTrue(self.f13.needs_rootfs)
        # the root file system carries this very stack
        real = self.i13["libraries"]["libibverbs"]["file"]
        self.assertTrue((self.f13.rootfs / real).is_file(), real)
        self.assertEqual((self.f13.rootfs / "usr/bin/dpkg").stat().st_uid, 0)
        # and what every run needs beside it, perf among them, whenever it was cached
        self.assertEqual(missing_extra(self.f13.rootfs), [])
        self.assertTrue((self.f13.rootfs / "usr/bin/perf").is_file())

    def test_tools_and_kernel_come_from_the_manifest(self):
        self.assertEqual(self.i13["tools"]["perftest"], dict(self.s13.packages)["perftest"])
        self.assertEqual(self.i13["kernel"]["release"], self.s13.kernel["release"])
        self.assertIn("infiniband/verbs.h", self.i13["headers"])

    def test_second_fetch_is_served_from_the_cache(self):
        # With the archive unreachable, a cached stack still resolves.
        import os
        saved = os.environ.get("RDMAGATE_MIRROR")
        os.environ["RDMAGATE_MIRROR"] = UNREACHABLE_MIRROR
        try:
            again = fetch(self.s12)
        finally:
            if saved is None:
                del os.environ["RDMAGATE_MIRROR"]
            else:
                os.environ["RDMAGATE_MIRROR"] = saved
        self.assertEqual(again.root, self.f12.root)


class EveryRelease(unittest.TestCase):
    """Facts of each Debian stack's files, read without its root file system."""

    def test_the_provider_directory_is_the_one_libibverbs_compiles_in(self):
        # found from the string, not rdma-core's default guessed (a Debian tree
        # worked only through that guess before), with no warning
        for name in ("debian-11", "debian-12", "debian-13", "debian-sid"):
            with self.subTest(stack=name):
                got = fetch(resolve(name), with_rootfs=False)
                inv = inventory(got)
                lib = got.root / inv["libraries"]["libibverbs"]["file"]
                strings = subprocess.run(["strings", "-a", str(lib)], capture_output=True,
                                         text=True, check=True).stdout
                (compiled,) = re.findall(r"^(/\S+)/lib%s-rdmav\d+\.so$", strings, re.M)
                self.assertEqual(inv["layout"]["compiled_provider_dir"], compiled)
                self.assertEqual(inv["provider_dir"], compiled.lstrip("/"))
                self.assertEqual(inv["warnings"], [])

    def test_every_public_library_is_inventoried_libionic_where_shipped(self):
        for name in ("debian-11", "debian-sid"):
            with self.subTest(stack=name):
                got = fetch(resolve(name), with_rootfs=False)
                inv = inventory(got)
                libdir = got.root / "usr/lib/x86_64-linux-gnu"
                shipped = {p.name.split(".so")[0] for p in libdir.glob("lib*.so.[0-9]")
                           if re.fullmatch(r"lib\w+\.so\.\d+", p.name)}
                self.assertEqual({n for n, lib in inv["libraries"].items() if lib}, shipped)
        self.assertIn("libionic", shipped)      # rdma-core 65's, a fact of sid's packages


class ProvidersBetweenReleases(unittest.TestCase):
    def test_added_and_removed_providers_follow_the_packages(self):
        s11, _, i11 = fetched_inventory("debian-11")
        s12, _, i12 = fetched_inventory("debian-12")
        removed = set(i11["providers"]) - set(i12["providers"])
        added = set(i12["providers"]) - set(i11["providers"])
        self.assertEqual(removed, provider_files_in_deb(s11) - provider_files_in_deb(s12))
        self.assertEqual(added, provider_files_in_deb(s12) - provider_files_in_deb(s11))
        self.assertTrue(removed or added, "the two releases ship the same providers")
        self.assertNotEqual(i11["libraries"]["libibverbs"]["private_versions"],
                            i12["libraries"]["libibverbs"]["private_versions"])


if __name__ == "__main__":
    unittest.main()
