"""ABI baselines: abi works from the committed baselines without the
stacks, gives the same findings, and a corrupt baseline is an error."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from tests.support import REPO_ROOT, UNREACHABLE_MIRROR, abi_json, readelf_dynsyms, \
    readelf_versions


def abi(old, new, env):
    return abi_json(old, new, "--no-consumers", env=env)


class Baselines(unittest.TestCase):
    def test_committed_baselines_replace_the_download(self):
        with tempfile.TemporaryDirectory() as cache:
            offline = {"RDMAGATE_CACHE": cache, "RDMAGATE_MIRROR": UNREACHABLE_MIRROR}
            done, offline_report = abi("debian-12", "debian-13", offline)
            self.assertIn(done.returncode, (0, 1), done.stderr)
            self.assertTrue(all(s.startswith("baseline ") for s in offline_report["sources"]))
            self.assertEqual(list(Path(cache).glob("stacks/*")), [])   # nothing fetched
        for name in ("debian-12", "debian-13"):   # in the cache: read from the trees
            fetch(resolve(name), with_rootfs=False)
        done, fetched_report = abi("debian-12", "debian-13", {})
        self.assertTrue(all(s.startswith("tree ") for s in fetched_report["sources"]))
        self.assertEqual(offline_report["findings"], fetched_report["findings"])
        self.assertEqual(offline_report["verdicts"], fetched_report["verdicts"])

    def test_corrupt_baseline_is_an_error_naming_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "baselines"
            shutil.copytree(REPO_ROOT / "baselines", copy)
            broken = copy / "abi" / "debian-12" / "inventory.json"
            broken.write_text(broken.read_text()[:500])
            env = {"RDMAGATE_BASELINES": str(copy), "RDMAGATE_CACHE": str(Path(tmp) / "cache"),
                   "RDMAGATE_MIRROR": UNREACHABLE_MIRROR}
            done, _ = abi("debian-12", "debian-13", env)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn(f"{broken}: corrupt baseline", done.stderr)

    def test_a_truncated_or_missing_library_corpus_is_an_error_not_a_lost_check(self):
        # each once lost that library's abidiff check and exited 0
        for case in ("truncated", "missing"):
            with self.subTest(case=case), tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / "baselines"
                shutil.copytree(REPO_ROOT / "baselines", copy)
                broken = copy / "abi" / "debian-13" / "lib" / "libibverbs.abi"
                if case == "truncated":
                    broken.write_bytes(broken.read_bytes()[:4096])
                else:
                    broken.unlink()
                env = {"RDMAGATE_BASELINES": str(copy),
                       "RDMAGATE_CACHE": str(Path(tmp) / "cache"),
                       "RDMAGATE_MIRROR": UNREACHABLE_MIRROR}
                done, _ = abi("debian-12", "debian-13", env)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
                self.assertIn(f"{broken}: {case}", done.stderr)
                self.assertIn("baseline record --stack debian-13", done.stderr)

    def test_every_debian_stack_has_a_baseline_of_what_its_packages_export(self):
        for manifest in sorted((REPO_ROOT / "stacks").glob("debian-*.yaml")):
            with self.subTest(stack=manifest.stem):
                stack = resolve(manifest.stem)
                recorded = REPO_ROOT / "baselines" / "abi" / stack.name
                meta = json.loads((recorded / "meta.json").read_text())
                self.assertEqual([tuple(p) for p in meta["packages"]], list(stack.packages))
                libraries = json.loads((recorded / "inventory.json").read_text())["libraries"]
                self.assertEqual({p.stem for p in (recorded / "lib").glob("*.abi")},
                                 {name for name, lib in libraries.items() if lib})
                tree = fetch(stack, with_rootfs=False)
                for name, lib in libraries.items():
                    if lib:
                        self.assert_library_recorded(name, lib, tree.root / lib["file"])

    def test_committed_baselines_name_no_path_of_the_machine_they_were_recorded_on(self):
        # a temporary directory, the cache or the checkout in a baseline makes
        # every re-record a change, and says nothing of the stack
        machine = ("/tmp/", str(Path.home()), "/.cache/", str(REPO_ROOT))
        for path in sorted((REPO_ROOT / "baselines" / "abi").rglob("*")):
            if path.is_file():
                text = path.read_text(errors="replace")
                with self.subTest(file=str(path.relative_to(REPO_ROOT))):
                    self.assertEqual([m for m in machine if m in text], [])

    def assert_library_recorded(self, name: str, lib: dict, path: Path):
        """The recorded version nodes and symbols of a library are those
        binutils' readelf reads in the package's file."""
        nodes = readelf_versions(path)[""] - {lib["soname"]}   # the base node is the soname
        self.assertEqual(set(lib["public_versions"] + lib["private_versions"]), nodes, name)
        defined, _ = readelf_dynsyms(path)
        # exports key a default version by the symbol, another by symbol@version
        recorded = {(key.split("@")[0], version) for exports in lib["exports"].values()
                    for key, version in exports.items()}
        self.assertEqual(recorded, {(symbol, version) for symbol, version in defined if version},
                         name)


if __name__ == "__main__":
    unittest.main()
