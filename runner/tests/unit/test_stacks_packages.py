"""Vendor package sets as stacks: debs:DIR with Debian's real rdma-core
packages, rpms:DIR with an RPM built here, and bad directories."""
import json
import shutil
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from rdmagate.stacks.archive import Archive
from tests.support import abi_json, rdmagate

TRIXIE = ("libibverbs1", "ibverbs-providers", "libibverbs-dev", "librdmacm1t64",
          "librdmacm-dev", "libibumad3", "libibumad-dev", "libibmad5", "libibmad-dev",
          "libibnetdisc5t64", "libibnetdisc-dev")


def show(name: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict | None]:
    done = rdmagate("stacks", "show", name, "--json", env=env)
    return done, (json.loads(done.stdout) if done.stdout.startswith("{") else None)


class DebianPackagesAsAVendorSet(unittest.TestCase):
    """debian-13's own .deb files, given as a directory, make the same stack."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name) / "ofed"
        self.dir.mkdir()
        stack = resolve("debian-13")
        debs = Archive(stack.suite).download([(n, v) for n, v in stack.packages if n in TRIXIE])
        for deb in debs:
            shutil.copy(deb, self.dir)
        self.env = {"RDMAGATE_CACHE": str(Path(self.tmp.name) / "cache")}

    def tearDown(self):
        self.tmp.cleanup()

    def test_unpacked_into_the_cache_and_inventoried(self):
        done, inv = show(f"debs:{self.dir}", self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(inv["stack"]["kind"], "debs")
        self.assertEqual(inv["stack"]["name"], f"debs:{self.dir.resolve()}")
        self.assertTrue(inv["root"].startswith(self.env["RDMAGATE_CACHE"]), inv["root"])
        self.assertEqual(inv["libraries"]["libibverbs"]["private_versions"],
                         ["IBVERBS_PRIVATE_34"])
        self.assertEqual(len(inv["providers"]), 17)
        self.assertIn("mlx5", inv["drivers"])
        self.assertEqual(inv["tools"]["libibverbs1"], "56.1-1")
        self.assertEqual(set(inv["tools"]), set(TRIXIE))
        # a second look reuses the tree: nothing unpacked again
        again = rdmagate("stacks", "show", f"debs:{self.dir}", env=self.env)
        self.assertNotIn("unpacking", again.stderr)

    def test_the_abi_of_the_same_packages_has_no_change(self):
        fetch(resolve("debian-13"))   # its root file system runs the loads
        done, report = abi_json("debian-13", f"debs:{self.dir}", "--no-consumers")
        self.assertEqual(done.returncode, 0, done.stderr)
        worst = [f for f in report["findings"] if f["severity"] in ("breaking", "review")]
        self.assertEqual(worst, [])
        self.assertEqual(report["load_problems"], [])
        upgrade = [r for r in report["provider_loads"] if r["direction"] == "upgrade"][0]
        self.assertTrue(upgrade["loads"] and all(p["loaded"] for p in upgrade["loads"]))

    def test_a_corrupt_package_is_named(self):
        (self.dir / "broken_1.0_amd64.deb").write_text("not a package\n")
        done, _ = show(f"debs:{self.dir}", self.env)
        self.assertEqual(done.returncode, 2, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        self.assertIn("broken_1.0_amd64.deb: not a readable .deb package", line)


class BadDirectories(unittest.TestCase):
    def test_not_a_directory(self):
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("debs", "rpms"):
                missing = Path(tmp) / "absent"
                done, _ = show(f"{kind}:{missing}")
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(done.stderr.strip().splitlines(),
                                 [f"rdmagate: error: --stack {kind}:{missing}: {missing} "
                                  "is not a directory"])
                plain = Path(tmp) / "file.deb"
                plain.write_text("x")
                done, _ = show(f"{kind}:{plain}")
                self.assertEqual(done.returncode, 2, done.stderr)

    def test_no_packages_in_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            done, _ = show(f"rpms:{tmp}")
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn(f"no .rpm files in {Path(tmp).resolve()}", done.stderr)
            self.assertNotIn("Traceback", done.stderr)


SPEC = textwrap.dedent("""\
    %define debug_package %{nil}
    %define __os_install_post %{nil}
    Name: acme-libibverbs
    Version: 44.0
    Release: 7
    Summary: a vendor's libibverbs, crafted
    License: MIT
    AutoReqProv: no
    %description
    crafted for rdmagate's tests
    %install
    mkdir -p %{buildroot}/usr/lib64/libibverbs %{buildroot}/etc/libibverbs.d
    cp %{_sourcedir}/libibverbs.so.1 %{buildroot}/usr/lib64/
    echo "driver acme" > %{buildroot}/etc/libibverbs.d/acme.driver
    %files
    /usr/lib64/libibverbs.so.1
    /etc/libibverbs.d/acme.driver
    """)


@unittest.skipUnless(shutil.which("rpmbuild") and shutil.which("bsdtar"),
                     "rpmbuild (Debian package rpm) and bsdtar (libarchive-tools) are needed: "
                     "run ci/setup")
class RpmPackages(unittest.TestCase):
    """An RPM built here (rpmbuild from Debian's rpm), in the lib64 layout of
    RPM-based distributions."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        top = Path(self.tmp.name) / "rpmbuild"
        (top / "SOURCES").mkdir(parents=True)
        libibverbs = fetch(resolve("debian-12"), with_rootfs=False).root / \
            "usr/lib/x86_64-linux-gnu/libibverbs.so.1"
        shutil.copy(libibverbs, top / "SOURCES" / "libibverbs.so.1")
        spec = top / "acme.spec"
        spec.write_text(SPEC)
        subprocess.run(["rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)],
                       check=True, capture_output=True)
        self.dir = Path(self.tmp.name) / "rpms"
        self.dir.mkdir()
        for rpm in (top / "RPMS").rglob("*.rpm"):
            shutil.copy(rpm, self.dir)
        self.env = {"RDMAGATE_CACHE": str(Path(self.tmp.name) / "cache")}

    def tearDown(self):
        self.tmp.cleanup()

    def test_unpacked_and_inventoried(self):
        done, inv = show(f"rpms:{self.dir}", self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(inv["stack"]["kind"], "rpms")
        self.assertEqual(inv["libraries"]["libibverbs"]["file"], "usr/lib64/libibverbs.so.1")
        self.assertIn("IBVERBS_1.14", inv["libraries"]["libibverbs"]["public_versions"])
        self.assertEqual(inv["drivers"], ["acme"])
        self.assertEqual(inv["tools"], {"acme-libibverbs": "44.0-7"})


if __name__ == "__main__":
    unittest.main()
