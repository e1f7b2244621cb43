"""The host's stack and a prefix tree: inventoried like the Debian ones."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, inventory, resolve
from rdmagate.stacks.elf import read_elf
from tests.support import REPO_ROOT, rdmagate, readelf_dynsyms

HOST_LIBIBVERBS = Path("/usr/lib/x86_64-linux-gnu/libibverbs.so.1")


class ElfReader(unittest.TestCase):
    def test_matches_readelf_on_real_libraries(self):
        providers = sorted(Path("/usr/lib/x86_64-linux-gnu/libibverbs").glob("*.so"))[:4]
        for path in [HOST_LIBIBVERBS, Path("/usr/lib/x86_64-linux-gnu/librdmacm.so.1"), *providers]:
            info = read_elf(path)
            defined, undefined = readelf_dynsyms(path)
            self.assertEqual({(s, v) for s, v, _ in info.exports}, defined, path)
            self.assertEqual({(s, v) for s, v, _ in info.imports}, undefined, path)

    def test_garbage_is_a_clear_error(self):
        with tempfile.NamedTemporaryFile(suffix=".so") as junk:
            junk.write(b"\x7fELF\x02\x01" + b"\xff" * 40)
            junk.flush()
            with self.assertRaisesRegex(Exception, f"{junk.name}: malformed ELF"):
                read_elf(Path(junk.name))


class HostStack(unittest.TestCase):
    def test_host_inventory(self):
        done = rdmagate("stacks", "show", "host", "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        inv = json.loads(done.stdout)
        lib = inv["libraries"]["libibverbs"]
        self.assertEqual(lib["soname"], "libibverbs.so.1")
        self.assertEqual(Path("/") / lib["file"], HOST_LIBIBVERBS.resolve())
        self.assertEqual(inv["kernel"]["release"], os.uname().release)
        dpkg = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libibverbs1"],
                              capture_output=True, text=True, check=True).stdout
        self.assertEqual(inv["tools"]["libibverbs1"], dpkg)
        # the providers directory is the one compiled into libibverbs
        self.assertIn(b"/" + inv["provider_dir"].encode(), HOST_LIBIBVERBS.resolve().read_bytes())
        self.assertIn("rxe", inv["providers"])


class PrefixStack(unittest.TestCase):
    def test_prefix_tree_is_inventoried_like_its_source(self):
        source = fetch(resolve("debian-12"))
        reference = inventory(source)
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "ofed"
            shutil.copytree(source.root, tree, symlinks=True)
            done = rdmagate("stacks", "show", f"prefix:{tree}", "--json")
            self.assertEqual(done.returncode, 0, done.stderr)
            inv = json.loads(done.stdout)
        self.assertEqual(inv["stack"]["kind"], "prefix")
        self.assertEqual(inv["libraries"], reference["libraries"])
        self.assertEqual(inv["providers"], reference["providers"])
        self.assertEqual(inv["headers"], reference["headers"])

    def test_prefix_manifest(self):
        source = fetch(resolve("debian-12"))
        with tempfile.TemporaryDirectory() as tmp:
            manifest = Path(tmp) / "lab-ofed.yaml"
            manifest.write_text(f"name: lab-ofed\nkind: prefix\npath: {source.root}\n"
                                "description: a vendor tree\n")
            done = rdmagate("stacks", "show", str(manifest))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, re.compile(r"^lab-ofed \(prefix\): a vendor tree", re.M))


class Listing(unittest.TestCase):
    def test_list_names_every_manifest(self):
        done = rdmagate("stacks", "list", "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        names = [row["name"] for row in json.loads(done.stdout)]
        manifests = sorted(p.stem for p in (REPO_ROOT / "stacks").glob("*.yaml"))
        self.assertEqual(names, ["host", *manifests])


if __name__ == "__main__":
    unittest.main()
