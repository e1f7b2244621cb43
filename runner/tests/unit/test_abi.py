"""rdmagate abi on crafted libraries and on the real Debian stacks."""
import json
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from tests.support import rdmagate, readelf_versions


def build_fake_stack(root: Path, nodes: dict[str, list[str]]) -> Path:
    """A prefix tree whose libibverbs.so.1 exports `nodes` (node -> symbols),
    built with gcc and a version script, as rdma-core builds its own."""
    libdir = root / "usr" / "lib" / "x86_64-linux-gnu"
    (libdir / "libibverbs").mkdir(parents=True)
    symbols = [s for names in nodes.values() for s in names]
    source = root / "lib.c"
    source.write_text("".join(f"int {s}(void) {{ return {i}; }}\n" for i, s in enumerate(symbols)))
    script = root / "lib.map"
    previous = ""
    text = ""
    for node, names in nodes.items():
        body = " ".join(f"{s};" for s in names)
        text += f"{node} {{ global: {body} {'local: *;' if not previous else ''} }} {previous};\n"
        previous = node
    script.write_text(text)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(libdir / "libibverbs.so.1"),
                    "-Wl,-soname,libibverbs.so.1", f"-Wl,--version-script={script}", str(source)],
                   check=True)
    return root


def abi(old: Path, new: Path, results: Path):
    done = rdmagate("abi", "--from", f"prefix:{old}", "--to", f"prefix:{new}", "--no-consumers",
                    "--results", str(results), "--json")
    return done, (json.loads(done.stdout) if done.stdout.startswith("{") else None)


class CraftedLibraries(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.old = build_fake_stack(self.dir / "old", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_PRIVATE_1": ["priv_a"]})

    def tearDown(self):
        self.tmp.cleanup()

    def findings(self, report, **match):
        return [f for f in report["findings"] if all(f[k] == v for k, v in match.items())]

    def test_removed_public_symbol_breaks_applications(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo"], "IBVERBS_1.1": ["ibv_baz"],
            "IBVERBS_PRIVATE_1": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 1, done.stderr)
        (removed,) = self.findings(report, kind="symbol removed")
        self.assertEqual((removed["symbol"], removed["version"], removed["severity"],
                          removed["audience"]), ("ibv_bar", "IBVERBS_1.0", "breaking",
                                                 "applications"))
        (added,) = self.findings(report, kind="symbol added")
        self.assertEqual((added["symbol"], added["severity"]), ("ibv_baz", "benign"))
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "BREAKS")
        self.assertEqual(report["verdicts"]["providers"]["verdict"], "OK")
        # libabigail agrees: abidiff's incompatible bit is set for this pair
        self.assertTrue(report["abidiff"]["libibverbs"] & 8)

    def test_benign_addition_is_not_a_break(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_1.1": ["ibv_baz"],
            "IBVERBS_PRIVATE_1": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual({f["severity"] for f in report["findings"]
                          if f["library"] == "libibverbs"}, {"benign"})
        self.assertEqual(report["abidiff"]["libibverbs"] & 8, 0)

    def test_private_abi_change_breaks_providers_only(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_PRIVATE_2": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 1, done.stderr)
        (change,) = self.findings(report, kind="private ABI changed")
        self.assertEqual((change["severity"], change["audience"]), ("breaking", "providers"))
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "OK")

    def test_run_directory_keeps_the_evidence(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo"], "IBVERBS_PRIVATE_1": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        run_dir = Path(report["run_dir"])
        self.assertEqual(json.loads((run_dir / "findings.json").read_text())["findings"],
                         report["findings"])
        self.assertIn("ibv_bar", (run_dir / "abidiff" / "libibverbs.txt").read_text())
        self.assertEqual(json.loads((run_dir / "run.json").read_text())["exit_code"], 1)


def readelf_nodes(path: Path) -> set[str]:
    return readelf_versions(path)[""]


def readelf_public(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], capture_output=True,
                         text=True, check=True).stdout
    # sym@@VER (default) and sym@VER both mean "sym in node VER" to a loader
    return {w[7].replace("@@", "@") for w in map(str.split, out.splitlines())
            if len(w) >= 8 and w[6] != "UND" and "@" in w[7] and "PRIVATE" not in w[7]}


class RealDebianStacks(unittest.TestCase):
    @staticmethod
    def libibverbs(name: str) -> Path:
        return fetch(resolve(name), with_rootfs=False).root / \
            "usr/lib/x86_64-linux-gnu/libibverbs.so.1"

    def report(self, old: str, new: str):
        with tempfile.TemporaryDirectory() as tmp:
            done = rdmagate("abi", "--from", old, "--to", new, "--results", tmp, "--json")
        return done, json.loads(done.stdout)

    def test_debian_12_to_13_keeps_every_public_symbol_so_applications_are_fine(self):
        old, new = self.libibverbs("debian-12"), self.libibverbs("debian-13")
        self.assertLessEqual(readelf_public(old), readelf_public(new))  # a fact of the packages
        done, report = self.report("debian-12", "debian-13")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotEqual(report["verdicts"]["applications"]["verdict"], "BREAKS")
        self.assertFalse([f for f in report["findings"] if f["severity"] == "breaking"])
        # what needs review is header types, not symbols
        self.assertTrue(all(f["library"].startswith("infiniband/") for f in report["findings"]
                            if f["severity"] == "review" and f["audience"] == "applications"))

    def test_debian_13_to_sid_breaks_the_provider_abi(self):
        old_private = {n for n in readelf_nodes(self.libibverbs("debian-13")) if "PRIVATE" in n}
        new_private = {n for n in readelf_nodes(self.libibverbs("debian-sid")) if "PRIVATE" in n}
        self.assertNotEqual(old_private, new_private)   # a fact of the packages
        done, report = self.report("debian-13", "debian-sid")
        self.assertEqual(done.returncode, 1)
        (change,) = [f for f in report["findings"] if f["kind"] == "private ABI changed"]
        self.assertEqual(change["audience"], "providers")
        self.assertIn(sorted(old_private)[0], change["detail"])
        self.assertNotEqual(report["verdicts"]["applications"]["verdict"], "BREAKS")

    def test_debian_11_to_12_reports_the_providers_that_went_away(self):
        dirs = [fetch(resolve(n), with_rootfs=False).root / "usr/lib/x86_64-linux-gnu/libibverbs"
                for n in ("debian-11", "debian-12")]
        names = [{re.sub(r"^lib(.+)-rdmav\d+\.so$", r"\1", p.name) for p in d.glob("*.so")}
                 for d in dirs]
        done, report = self.report("debian-11", "debian-12")
        removed = {f["library"].removeprefix("provider ") for f in report["findings"]
                   if f["kind"] == "provider removed"}
        self.assertEqual(removed, names[0] - names[1])
        self.assertTrue(removed)


class AbiInput(unittest.TestCase):
    def test_unknown_stack(self):
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-99")
        self.assertEqual(done.returncode, 2)
        self.assertIn("unknown stack 'debian-99'", done.stderr)

    def test_both_stacks_are_needed(self):
        done = rdmagate("abi", "--from", "debian-12")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--from STACK and --to STACK", done.stderr)

    def test_missing_suppression_file(self):
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13",
                        "--suppressions", "/nonexistent.supp")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--suppressions /nonexistent.supp: no such file", done.stderr)


if __name__ == "__main__":
    unittest.main()


class DebugInfo(unittest.TestCase):
    def test_libraries_with_debug_info_have_their_types_compared(self):
        with tempfile.TemporaryDirectory() as tmp:
            trees = []
            for name, layout in (("old", "int a; int b;"), ("new", "int b; int a;")):
                root = Path(tmp) / name
                libdir = root / "usr/lib/x86_64-linux-gnu"
                (libdir / "libibverbs").mkdir(parents=True)
                (root / "lib.c").write_text(f"struct ibv_obj {{ {layout} }};\n"
                                            "int ibv_use(struct ibv_obj *o) { return o->a; }\n")
                (root / "lib.map").write_text("IBVERBS_1.0 { global: ibv_use; local: *; };\n")
                subprocess.run(["gcc", "-g", "-shared", "-fPIC", "-o",
                                str(libdir / "libibverbs.so.1"), "-Wl,-soname,libibverbs.so.1",
                                f"-Wl,--version-script={root / 'lib.map'}", str(root / "lib.c")],
                               check=True)
                trees.append(root)
            done, report = abi(trees[0], trees[1], Path(tmp) / "results")
        kinds = {(f["library"], f["kind"]) for f in report["findings"]}
        self.assertTrue(("libibverbs", "library types changed") in kinds or
                        ("libibverbs", "unclassified incompatible change") in kinds, kinds)
