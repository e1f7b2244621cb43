"""Consumer impact on real Debian consumer packages (libfabric, UCX)."""
import shutil
import struct
import subprocess
import tempfile
import unittest
from pathlib import Path

from rdmagate.abi.consumers import _mentions_rdma
from rdmagate.stacks import fetch, resolve
from rdmagate.stacks.archive import Archive
from tests.support import abi_json, build_fake_stack, build_header_stack, build_library, \
    rdmagate, readelf_versions

LIBFABRIC = {"bullseye": "1.11.0-2", "trixie": "2.1.0-1.1"}


def libfabric_deb(suite: str) -> Path:
    return Archive(suite).download([("libfabric1", LIBFABRIC[suite])])[0]


def needed_nodes(deb: Path, soname: str = "libibverbs.so.1") -> set[str]:
    """Nodes of one library the .deb's libfabric needs, as binutils reads them."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(deb), tmp], check=True)
        (lib,) = [p for p in Path(tmp).rglob("libfabric.so.1.*") if not p.is_symlink()]
        needs = readelf_versions(lib, "needs")
    return {node for node in needs.get(soname, ()) if node != soname}


def defined_nodes(stack: str, soname: str = "libibverbs.so.1") -> set[str]:
    lib = fetch(resolve(stack), with_rootfs=False).root / "usr/lib/x86_64-linux-gnu" / soname
    return {node for node in readelf_versions(lib)[""] if node != soname}


def run_abi(old: str, new: str, deb: Path):
    return abi_json(old, new, "--consumers", str(deb))


class ConsumerImpact(unittest.TestCase):
    def test_symlinked_providers_are_checked(self):
        providers = fetch(resolve("debian-13"), with_rootfs=False).root / \
            "usr/lib/x86_64-linux-gnu/libibverbs"
        links = sorted(p.name for p in providers.glob("*.so") if p.is_symlink())
        self.assertIn("libmlx5-rdmav34.so", links)      # a fact of the package
        done, report = abi_json("debian-13", "debian-sid", "--consumers", str(providers))
        checked = {Path(c["consumer"]).name: c for c in report["consumers"]}
        self.assertLessEqual(set(links), set(checked))
        mlx5 = checked["libmlx5-rdmav34.so"]
        self.assertEqual(mlx5["verdict"], "fails to load")     # IBVERBS_PRIVATE_34 is gone
        self.assertIn("IBVERBS_PRIVATE_34 (libibverbs.so.1)", mlx5["missing_versions"])

    def test_imports_of_direct_verbs_libraries_are_checked(self):
        with tempfile.TemporaryDirectory() as tmp:
            code = Path(tmp) / "app.c"
            code.write_text("extern int mlx5dv_gone(void);\nint main(void) { return mlx5dv_gone(); }\n")
            lib = Path(tmp) / "libmlx5.so.1"
            (Path(tmp) / "lib.map").write_text("MLX5_1.0 { global: mlx5dv_gone; local: *; };\n")
            (Path(tmp) / "lib.c").write_text("int mlx5dv_gone(void) { return 0; }\n")
            subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), "-Wl,-soname,libmlx5.so.1",
                            f"-Wl,--version-script={tmp}/lib.map", f"{tmp}/lib.c"], check=True)
            app = Path(tmp) / "app"
            subprocess.run(["gcc", "-o", str(app), str(code), str(lib)], check=True)
            done, report = abi_json("debian-13", "debian-sid", "--consumers", str(app))
        (impact,) = report["consumers"]
        self.assertEqual(impact["verdict"], "fails to resolve")
        self.assertEqual(impact["missing_symbols"], ["mlx5dv_gone@MLX5_1.0"])

    def test_imports_of_a_vendors_own_library_are_checked(self):
        # a vendor stack's library (versioned, linking libibverbs) is one of
        # its public libraries: a consumer of it is checked like one of libmlx5
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            trees = [build_fake_stack(tmp / name, {"IBVERBS_1.0": ["ibv_foo"]})
                     for name in ("old", "new")]
            for tree, symbols in zip(trees, (["vnd_keep", "vnd_gone"], ["vnd_keep"])):
                lib_dir = tree / "usr/lib/x86_64-linux-gnu"
                build_library(lib_dir / "libvnd.so.1", {"VND_1.0": symbols},
                              "int ibv_foo(void);\n" + "".join(
                                  f"int {s}(void) {{ return ibv_foo(); }}\n" for s in symbols),
                              links=(lib_dir / "libibverbs.so.1",))
            (tmp / "app.c").write_text("int vnd_gone(void);\nint main(void) { return vnd_gone(); }\n")
            old_libs = trees[0] / "usr/lib/x86_64-linux-gnu"
            subprocess.run(["gcc", "-o", str(tmp / "app"), str(tmp / "app.c"),
                            str(old_libs / "libvnd.so.1"), f"-Wl,-rpath-link,{old_libs}"],
                           check=True)
            done, report = abi_json(f"prefix:{trees[0]}", f"prefix:{trees[1]}",
                                    "--consumers", str(tmp / "app"), "--no-load")
        self.assertIn(("libvnd", "symbol removed"),
                      {(f["library"], f["kind"]) for f in report["findings"]})
        self.assertEqual(len(report["consumers"]), 1, "the app was not taken for a consumer")
        (impact,) = report["consumers"]
        self.assertEqual((impact["verdict"], impact["missing_symbols"]),
                         ("fails to resolve", ["vnd_gone@VND_1.0"]))
        self.assertEqual(done.returncode, 1)

    def test_a_consumer_of_a_public_function_whose_prototype_changed_needs_review(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            old = build_header_stack(tmp / "old")
            new = build_header_stack(tmp / "new", protos="void ibv_use_plain(struct ibv_plain "
                                     "*plain, int flags);")
            (tmp / "app.c").write_text("int ibv_use_plain(void);\n"
                                       "int main(void) { return ibv_use_plain(); }\n")
            subprocess.run(["gcc", "-o", str(tmp / "app"), str(tmp / "app.c"),
                            str(old / "usr/lib/x86_64-linux-gnu/libibverbs.so.1")], check=True)
            done, report = abi_json(f"prefix:{old}", f"prefix:{new}", "--consumers",
                                    str(tmp / "app"), "--no-load")
        (impact,) = report["consumers"]
        self.assertEqual((impact["verdict"], impact["changed_signatures"]),
                         ("loads with changed signatures", ["ibv_use_plain@IBVERBS_1.0"]))
        (said,) = [f for f in report["findings"] if f["kind"].startswith("consumer")]
        self.assertEqual((said["kind"], said["severity"], said["audience"]),
                         ("consumer calls changed functions", "review", "applications"))

    def test_newer_libfabric_does_not_load_on_an_older_stack(self):
        deb = libfabric_deb("trixie")
        # of libibverbs and of the direct-verbs library libfabric links (libefa)
        expected_missing = set().union(*(needed_nodes(deb, so) - defined_nodes("debian-11", so)
                                         for so in ("libibverbs.so.1", "libefa.so.1")))
        self.assertTrue(expected_missing, "the packages no longer show a downgrade break")
        done, report = run_abi("debian-13", "debian-11", deb)
        self.assertEqual(done.returncode, 1)
        (impact,) = [c for c in report["consumers"] if "libfabric.so" in c["consumer"]]
        self.assertEqual(impact["verdict"], "fails to load")
        self.assertEqual({v.split()[0] for v in impact["missing_versions"]}, expected_missing)
        self.assertTrue(any(f["kind"] == "consumer fails to load" for f in report["findings"]))

    def test_older_libfabric_loads_on_a_newer_stack(self):
        deb = libfabric_deb("bullseye")
        self.assertLessEqual(needed_nodes(deb), defined_nodes("debian-13"))
        done, report = run_abi("debian-11", "debian-13", deb)
        (impact,) = [c for c in report["consumers"] if "libfabric.so" in c["consumer"]]
        self.assertEqual(impact["verdict"], "ok", impact)

    def test_missing_consumer_is_a_usage_error(self):
        done = rdmagate("abi", "--from", "debian-12", "--to", "debian-13",
                        "--consumers", "/nonexistent/app")
        self.assertEqual(done.returncode, 2)
        self.assertIn("--consumers /nonexistent/app: no such file", done.stderr)


class Prefilter(unittest.TestCase):
    """The cheap test that picks consumers reads only .dynstr; it must name
    the same files a search of every byte would."""

    def test_dynstr_prefilter_agrees_with_a_whole_file_search(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "stub.c").write_text("int ibv_fork_init(void) { return 0; }\n")
            (tmp / "app.c").write_text("int ibv_fork_init(void);\n"
                                       "int main(void) { return ibv_fork_init(); }\n")
            (tmp / "plain.c").write_text("int main(void) { return 0; }\n")
            gcc = ["gcc", "-o"]
            subprocess.run(gcc + [str(tmp / "libibverbs.so.1"), "-shared", "-fPIC",
                                  "-Wl,-soname,libibverbs.so.1", str(tmp / "stub.c")], check=True)
            subprocess.run(gcc + [str(tmp / "app"), str(tmp / "app.c"), str(tmp / "libibverbs.so.1")],
                           check=True)
            subprocess.run(gcc + [str(tmp / "plain"), str(tmp / "plain.c")], check=True)
            # the loader needs no section headers: a file without them is
            # still a consumer, found by the bounded whole-file scan
            shutil.copy(tmp / "app", tmp / "app-noshdr")
            with open(tmp / "app-noshdr", "r+b") as f:
                f.seek(0x28)
                f.write(struct.pack("<Q", 0))
                f.seek(0x3C)
                f.write(struct.pack("<H", 0))
            for name in ("app", "app-noshdr", "plain", "libibverbs.so.1"):
                whole = b"libibverbs.so.1" in (tmp / name).read_bytes()
                self.assertEqual(_mentions_rdma(tmp / name), whole, name)
            self.assertTrue(_mentions_rdma(tmp / "app-noshdr"))
            self.assertFalse(_mentions_rdma(tmp / "plain"))


class HostScan(unittest.TestCase):
    def test_rdma_cores_own_tools_are_replaced_not_broken(self):
        tool = Path("/usr/bin/ibv_devinfo")
        # a fact of the host: its rdma-core tools are bound to the private ABI
        self.assertTrue(any("PRIVATE" in v for v in
                            readelf_versions(tool, "needs").get("libibverbs.so.1", set())))
        done, report = abi_json("debian-12", "debian-sid")
        (impact,) = [c for c in report["consumers"] if c["consumer"] == str(tool)]
        self.assertEqual(impact["verdict"], "replaced by the upgrade")
        self.assertFalse([f for f in report["findings"] if f["library"] == str(tool)])


if __name__ == "__main__":
    unittest.main()
