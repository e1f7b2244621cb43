"""rdmagate abi on crafted libraries and on the real Debian stacks."""
import json
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.stacks import fetch, resolve
from tests.support import abi_json, build_fake_stack, build_library, rdmagate, readelf_dynsyms, \
    readelf_versions


def abi(old: Path, new: Path, results: Path):
    return abi_json(f"prefix:{old}", f"prefix:{new}", "--no-consumers", results=results)


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
        # stripped libraries: providers hear only that the private types were not compared
        self.assertEqual([f["kind"] for f in report["findings"] if f["audience"] == "providers"],
                         ["private types not compared"])
        # libabigail agrees: abidiff's incompatible bit is set for this pair
        self.assertTrue(report["abidiff"]["libibverbs"] & 8)

    def test_benign_addition_is_not_a_break(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_1.1": ["ibv_baz"],
            "IBVERBS_PRIVATE_1": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual({f["severity"] for f in report["findings"] if f["library"] ==
                          "libibverbs" and f["kind"] != "private types not compared"}, {"benign"})
        self.assertEqual(report["abidiff"]["libibverbs"] & 8, 0)

    def test_private_abi_change_breaks_providers_only(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_PRIVATE_2": ["priv_a"]})
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 1, done.stderr)
        (change,) = self.findings(report, kind="private ABI changed")
        self.assertEqual((change["severity"], change["audience"]), ("breaking", "providers"))
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "OK")

    def test_a_direct_verbs_library_gets_the_same_symbol_and_node_rules(self):
        new = build_fake_stack(self.dir / "new", {
            "IBVERBS_1.0": ["ibv_foo", "ibv_bar"], "IBVERBS_PRIVATE_1": ["priv_a"]})
        for tree, nodes in ((self.old, {"MLX5_1.0": ["mlx5dv_a", "mlx5dv_b"]}),
                            (new, {"MLX5_1.0": ["mlx5dv_a"], "MLX5_1.1": ["mlx5dv_c"]})):
            build_library(tree / "usr/lib/x86_64-linux-gnu/libmlx5.so.1", nodes)
        done, report = abi(self.old, new, self.dir / "results")
        self.assertEqual(done.returncode, 1, done.stderr)
        mlx5 = {(f["kind"], f["symbol"], f["version"], f["severity"])
                for f in report["findings"] if f["library"] == "libmlx5"}
        self.assertIn(("symbol removed", "mlx5dv_b", "MLX5_1.0", "breaking"), mlx5)
        self.assertIn(("version node added", "", "MLX5_1.1", "benign"), mlx5)
        self.assertIn("libmlx5", report["abidiff"])

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
    """sym@VER of each public symbol defined (PRIVATE nodes are the providers')."""
    defined, _ = readelf_dynsyms(path)
    return {f"{name}@{version}" for name, version in defined
            if version and "PRIVATE" not in version}


class RealDebianStacks(unittest.TestCase):
    @staticmethod
    def libibverbs(name: str) -> Path:
        return fetch(resolve(name), with_rootfs=False).root / \
            "usr/lib/x86_64-linux-gnu/libibverbs.so.1"

    def report(self, old: str, new: str):
        return abi_json(old, new)

    def test_debian_12_to_13_keeps_every_public_symbol_so_applications_are_fine(self):
        old, new = self.libibverbs("debian-12"), self.libibverbs("debian-13")
        self.assertLessEqual(readelf_public(old), readelf_public(new))  # a fact of the packages
        done, report = self.report("debian-12", "debian-13")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotEqual(report["verdicts"]["applications"]["verdict"], "BREAKS")
        self.assertFalse([f for f in report["findings"] if f["severity"] == "breaking"])
        # what needs review is header types, not symbols, and the one public
        # function that appeared under the private node (ibv_wr_opcode_str, rdma-core 49)
        self.assertEqual({f["symbol"] for f in report["findings"] if f["audience"] ==
                          "applications" and f["severity"] == "review"
                          and not f["library"].startswith("infiniband/")}, {"ibv_wr_opcode_str"})

    def test_debian_13_to_sid_breaks_the_provider_abi(self):
        old_private = {n for n in readelf_nodes(self.libibverbs("debian-13")) if "PRIVATE" in n}
        new_private = {n for n in readelf_nodes(self.libibverbs("debian-sid")) if "PRIVATE" in n}
        self.assertNotEqual(old_private, new_private)   # a fact of the packages
        done, report = self.report("debian-13", "debian-sid")
        self.assertEqual(done.returncode, 1)
        (change,) = [f for f in report["findings"] if f["kind"] == "private ABI changed"]
        self.assertEqual(change["audience"], "providers")
        self.assertIn(sorted(old_private)[0], change["detail"])
        # applications break only by the public function under the old private node
        self.assertEqual([(f["kind"], f["symbol"]) for f in report["findings"]
                          if f["audience"] == "applications" and f["severity"] == "breaking"],
                         [("public function's private node replaced", "ibv_wr_opcode_str")])

    def test_debian_13_to_sid_reports_the_new_version_nodes_of_libmlx5(self):
        root = {n: fetch(resolve(n), with_rootfs=False).root for n in ("debian-13", "debian-sid")}
        nodes = [readelf_nodes(root[n] / "usr/lib/x86_64-linux-gnu/libmlx5.so.1") for n in root]
        new_nodes = nodes[1] - nodes[0]
        self.assertIn("MLX5_1.25.1", new_nodes)      # a fact of the packages
        done, report = self.report("debian-13", "debian-sid")
        added = {f["version"] for f in report["findings"]
                 if f["library"] == "libmlx5" and f["kind"] == "version node added"}
        self.assertEqual(added, new_nodes)
        self.assertIn("libmlx5", report["abidiff"])

    def test_debian_12_to_13_reports_the_new_nodes_of_the_management_libraries(self):
        lib = "usr/lib/x86_64-linux-gnu"
        roots = [fetch(resolve(n), with_rootfs=False).root for n in ("debian-12", "debian-13")]
        done, report = self.report("debian-12", "debian-13")
        for name, soname in (("libibmad", "libibmad.so.5"), ("libibnetdisc", "libibnetdisc.so.5")):
            old, new = (readelf_nodes(root / lib / soname) for root in roots)
            self.assertTrue(new - old, name)             # a fact of the packages
            added = {f["version"] for f in report["findings"]
                     if f["library"] == name and f["kind"] == "version node added"}
            self.assertEqual(added, new - old, name)
            self.assertIn(name, report["abidiff"])

    def test_debian_11_to_12_breaks_libibnetdisc_applications_by_a_grown_member(self):
        # rdma-core 44.0 made struct ibnd_node's nodedesc one byte longer (for
        # its NUL) under the same soname: the members after it move
        header = "usr/include/infiniband/ibnetdisc.h"
        sizes = [re.findall(r"char nodedesc\[([^]]+)\]",
                            (fetch(resolve(n), with_rootfs=False).root / header).read_text())
                 for n in ("debian-11", "debian-12")]
        self.assertEqual(sizes, [["IB_SMP_DATA_SIZE"], ["IB_SMP_DATA_SIZE + 1"]])  # the headers
        done, report = self.report("debian-11", "debian-12")
        self.assertEqual(done.returncode, 1)
        (grown,) = [f for f in report["findings"] if f["symbol"] == "ibnd_node.nodedesc"]
        self.assertEqual((grown["severity"], grown["audience"]), ("breaking", "applications"))
        self.assertIn("char[64] -> char[65]", grown["detail"])
        self.assertIn("ibnd_node.ports", {f["symbol"] for f in report["findings"]
                                          if f["kind"] == "member moved"})

    def test_debian_13_to_sid_keeps_the_old_symbol_of_a_grown_array_struct(self):
        # rdma-core 65 grew struct mlx5dv_flow_action_attr, passed as an array
        # to mlx5dv_create_flow: it kept that symbol (old stride) and the
        # headers now call __mlx5dv_create_flow with the caller's size
        done, report = self.report("debian-13", "debian-sid")
        (grew,) = [f for f in report["findings"] if f["symbol"] == "mlx5dv_flow_action_attr"]
        self.assertEqual((grew["kind"], grew["severity"]), ("extended compatibly", "benign"))
        self.assertIn("mlx5dv_create_flow@MLX5_1.6 is kept for the old stride", grew["detail"])
        self.assertIn("__mlx5dv_create_flow@@MLX5_1.25.1", grew["detail"])

    def test_debian_11_to_12_reports_the_providers_that_went_away_and_their_heirs(self):
        dirs = [fetch(resolve(n), with_rootfs=False).root / "usr/lib/x86_64-linux-gnu/libibverbs"
                for n in ("debian-11", "debian-12")]
        names = [{re.sub(r"^lib(.+)-rdmav\d+\.so$", r"\1", p.name) for p in d.glob("*.so")}
                 for d in dirs]
        done, report = self.report("debian-11", "debian-12")
        gone = {f["library"].removeprefix("provider "): f for f in report["findings"]
                if f["kind"] in ("provider removed", "provider replaced")}
        self.assertEqual(set(gone), names[0] - names[1])
        # i40iw's X722 devices are all in irdma's match table (rdma-core 37 on)
        self.assertEqual((gone["i40iw"]["kind"], gone["i40iw"]["severity"]),
                         ("provider replaced", "info"))
        self.assertIn("the new stack's irdma matches every device it did (10 PCI ids, kernel "
                      "driver id 9)", gone["i40iw"]["detail"])


class PrivateSignatures(unittest.TestCase):
    """A private function's signature changed: under the same node a break for
    providers, with a new node the node change says it (and is the fix)."""
    PRIVATE_OLD = "int priv_a(int x) { return x; }\n"
    PRIVATE_NEW = "int priv_a(int x, int y) { return x + y; }\n"

    def pair(self, tmp: Path, new_node: str, debug: bool, driver_h: bool, *options: str):
        trees = []
        for name, code, node in (("old", self.PRIVATE_OLD, "IBVERBS_PRIVATE_1"),
                                 ("new", self.PRIVATE_NEW, new_node)):
            tree = build_fake_stack(tmp / name, {"IBVERBS_1.0": ["ibv_foo"], node: ["priv_a"]},
                                    source="int ibv_foo(void) { return 0; }\n" + code,
                                    debug=debug)
            include = tree / "usr/include/infiniband"
            include.mkdir(parents=True)
            (include / "verbs.h").write_text("int ibv_foo(void);\n")
            if driver_h:
                (include / "driver.h").write_text(code.split(" {")[0] + ";\n")
            trees.append(tree)
            if name == "old":    # a provider built for the old stack
                (tmp / "prov.c").write_text("extern int priv_a(int);\n"
                                            "int prov_init(void) { return priv_a(1); }\n")
                subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp / "libprov-rdmav1.so"),
                                str(tmp / "prov.c"),
                                str(tree / "usr/lib/x86_64-linux-gnu/libibverbs.so.1")], check=True)
        done, self.report = abi_json(f"prefix:{trees[0]}", f"prefix:{trees[1]}",
                                     *(options or ["--no-consumers"]), results=tmp / "results")
        return done, [f for f in self.report["findings"] if f["symbol"] == "priv_a"
                      or f["kind"].startswith("private ABI")]

    def test_a_provider_calling_the_changed_function_loads_but_is_not_ok(self):
        with tempfile.TemporaryDirectory() as tmp:
            done, _ = self.pair(Path(tmp), "IBVERBS_PRIVATE_1", True, False,
                                "--consumers", str(Path(tmp) / "libprov-rdmav1.so"))
        (impact,) = self.report["consumers"]
        self.assertEqual(impact["verdict"], "loads with changed signatures")
        self.assertEqual(impact["changed_signatures"], ["priv_a@IBVERBS_PRIVATE_1"])
        (said,) = [f for f in self.report["findings"] if f["kind"].startswith("consumer")]
        self.assertEqual((said["kind"], said["severity"], said["audience"]),
                         ("consumer calls changed functions", "breaking", "providers"))

    def test_from_debug_info_and_from_driver_h(self):
        for debug, driver_h in ((True, False), (False, True), (True, True)):
            with self.subTest(debug=debug, driver_h=driver_h), \
                    tempfile.TemporaryDirectory() as tmp:
                done, found = self.pair(Path(tmp), "IBVERBS_PRIVATE_1", debug, driver_h)
                self.assertEqual(done.returncode, 1)
                (change,) = found
                self.assertEqual((change["kind"], change["severity"], change["audience"]),
                                 ("private ABI changed without a new version node", "breaking",
                                  "providers"))
                self.assertIn("int(int) -> int(int, int)" if debug else
                              "int (int) -> int (int, int)", change["detail"])

    def test_a_new_node_is_the_fix(self):
        with tempfile.TemporaryDirectory() as tmp:
            done, found = self.pair(Path(tmp), "IBVERBS_PRIVATE_2", True, True)
        self.assertEqual([f["kind"] for f in found], ["private ABI changed"])


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


class DebugInfo(unittest.TestCase):
    def test_libraries_with_debug_info_have_their_types_compared(self):
        with tempfile.TemporaryDirectory() as tmp:
            trees = []
            for name, layout in (("old", "int a; int b;"), ("new", "int b; int a;")):
                source = (f"struct ibv_obj {{ {layout} }};\n"
                          "int ibv_use(struct ibv_obj *o) { return o->a; }\n")
                trees.append(build_fake_stack(Path(tmp) / name, {"IBVERBS_1.0": ["ibv_use"]},
                                              source=source, debug=True))
            done, report = abi(trees[0], trees[1], Path(tmp) / "results")
        kinds = {(f["library"], f["kind"]) for f in report["findings"]}
        self.assertTrue(("libibverbs", "library types changed") in kinds or
                        ("libibverbs", "unclassified incompatible change") in kinds, kinds)

    def test_additions_alone_need_no_review(self):
        with tempfile.TemporaryDirectory() as tmp:
            trees = []
            for name, extra in (("old", ""), ("new", "int ibv_new(struct ibv_obj *o) "
                                                     "{ return o->b; }\nint ibv_count = 1;\n")):
                source = ("struct ibv_obj { int a; int b; };\n"
                          "int ibv_use(struct ibv_obj *o) { return o->a; }\n" + extra)
                nodes = {"IBVERBS_1.0": ["ibv_use"]}
                if extra:     # additions go to a new node (a released one is not added to)
                    nodes["IBVERBS_1.1"] = ["ibv_new", "ibv_count"]
                trees.append(build_fake_stack(Path(tmp) / name, nodes,
                                              source=source, debug=True))
            done, report = abi(trees[0], trees[1], Path(tmp) / "results")
        self.assertEqual(report["abidiff"]["libibverbs"], 4)     # abidiff: a change
        self.assertEqual(report["verdicts"]["applications"]["verdict"], "OK", report["findings"])
        self.assertNotIn("library types changed", [f["kind"] for f in report["findings"]])


if __name__ == "__main__":
    unittest.main()
