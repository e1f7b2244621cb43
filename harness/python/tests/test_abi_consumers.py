"""Consumer impact on real Debian consumer packages (libfabric, UCX)."""
import json
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from rdmagate.stacks.archive import Archive
from runner_support import rdmagate, readelf_versions

LIBFABRIC = {"bullseye": "1.11.0-2", "trixie": "2.1.0-1.1"}


def libfabric_deb(suite: str) -> Path:
    return Archive(suite).download([("libfabric1", LIBFABRIC[suite])])[0]


def needed_ibverbs_nodes(deb: Path) -> set[str]:
    """IBVERBS nodes the .deb's libfabric needs, as binutils reads them."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        (lib,) = [p for p in Path(tmp).rglob("libfabric.so.1.*") if not p.is_symlink()]
        needs = readelf_versions(lib, "needs")
    return {node for node in needs["libibverbs.so.1"] if node.startswith("IBVERBS_")}


def defined_nodes(stack: str) -> set[str]:
    lib = fetch(resolve(stack), with_rootfs=False).root / "usr/lib/x86_64-linux-gnu/libibverbs.so.1"
    return {node for node in readelf_versions(lib)[""] if node.startswith("IBVERBS_")}


def run_abi(old: str, new: str, deb: Path):
    with tempfile.TemporaryDirectory() as tmp:
        done = rdmagate("abi", "--from", old, "--to", new, "--consumers", str(deb), "--json",
                        "--results", tmp)
    return done, json.loads(done.stdout)


class ConsumerImpact(unittest.TestCase):
    def test_newer_libfabric_does_not_load_on_an_older_stack(self):
        deb = libfabric_deb("trixie")
        expected_missing = needed_ibverbs_nodes(deb) - defined_nodes("debian-11")
        self.assertTrue(expected_missing, "the packages no longer show a downgrade break")
        done, report = run_abi("debian-13", "debian-11", deb)
        self.assertEqual(done.returncode, 1)
        (impact,) = [c for c in report["consumers"] if "libfabric.so" in c["consumer"]]
        self.assertEqual(impact["verdict"], "fails to load")
        self.assertEqual({v.split()[0] for v in impact["missing_versions"]}, expected_missing)
        self.assertTrue(any(f["kind"] == "consumer fails to load" for f in report["findings"]))

    def test_older_libfabric_loads_on_a_newer_stack(self):
        deb = libfabric_deb("bullseye")
        self.assertLessEqual(needed_ibverbs_nodes(deb), defined_nodes("debian-13"))
        done, report = run_abi("debian-11", "debian-13", deb)
        (impact,) = [c for c in report["consumers"] if "libfabric.so" in c["consumer"]]
        self.assertEqual(impact["verdict"], "ok", impact)

    def test_missing_consumer_is_a_usage_error(self):
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13",
                        "--consumers", "/nonexistent/app")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--consumers /nonexistent/app: no such file", done.stderr)


if __name__ == "__main__":
    unittest.main()
