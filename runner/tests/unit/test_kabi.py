"""rdmagate kabi on the real Debian kernels (their Module.symvers, .config
and images, fetched into the cache) and on the test module of suites/kabi
built against debian-12's 6.1 headers. No guest is booted.

Expected facts come from independent readings: the raw Module.symvers lines,
binutils' readelf, modinfo and modprobe --dump-modversions of the built
module, not from the code under test."""
import json
import shutil
import subprocess
import tempfile
import unittest
from dataclasses import replace
from pathlib import Path

from rdmagate.kabi import compare, facts, modules, predict
from rdmagate.kabi import record as kabi_record
from rdmagate.stacks import resolve
from tests import kabi_support
from tests.support import rdmagate

STACKS = ("debian-11", "debian-12", "debian-13", "debian-sid")
RDMA = ("drivers/infiniband/", "drivers/net/ethernet/mellanox/", "net/rds/", "net/smc/")


def raw_rdma(side) -> dict[str, tuple]:
    """symbol -> (crc, module, kind, namespace), split by hand from the file."""
    path = Path(side.source.split(" ", 1)[1]) / "Module.symvers"
    out = {}
    for line in path.read_text().splitlines():
        crc, symbol, module, kind, namespace = line.split("\t")
        if module.startswith(RDMA):
            out[symbol] = (int(crc, 16), module, kind, namespace)
    return out


def of_kind(report, kind: str) -> set[str]:
    return {f.symbol for f in report.findings if f.kind == kind}


class RealKernels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sides = {s: facts.side(s, full=True) for s in STACKS}
        cls.raw = {s: raw_rdma(side) for s, side in cls.sides.items()}

    def report(self, old: str, new: str):
        return compare.compare(self.sides[old], self.sides[new], "rdma")

    def test_exports_really_removed_are_reported_removed(self):
        removed = of_kind(self.report("debian-11", "debian-12"), "export removed")
        # ib_core of 5.10 exports these; 6.1 no longer does (read from the files).
        for symbol in ("ib_cancel_mad", "ib_create_qp", "ib_modify_wq"):
            self.assertIn(symbol, self.raw["debian-11"])
            self.assertNotIn(symbol, self.raw["debian-12"])
            self.assertIn(symbol, removed)
        for old, new in zip(STACKS, STACKS[1:]):
            wanted = {s for s in self.raw[old]
                      if s not in self.sides[new].exports}
            self.assertEqual(of_kind(self.report(old, new), "export removed"), wanted,
                             f"{old} -> {new}")

    def test_exports_really_unchanged_are_not_reported(self):
        for old, new in (("debian-11", "debian-12"), ("debian-12", "debian-13")):
            report = self.report(old, new)
            reported = {f.symbol for f in report.findings if f.symbol}
            same = {s for s, line in self.raw[old].items() if self.raw[new].get(s) == line}
            self.assertIn("ib_event_msg", same)        # 0xf6ed3334 in 5.10, 6.1 and 6.12
            self.assertFalse(reported & same, f"{old} -> {new}: {sorted(reported & same)[:5]}")

    def test_crc_changes_are_those_of_the_files(self):
        report = self.report("debian-12", "debian-13")
        wanted = {s for s, (crc, *_) in self.raw["debian-12"].items()
                  if s in self.raw["debian-13"] and self.raw["debian-13"][s][0] != crc}
        self.assertGreater(len(wanted), 100)
        self.assertEqual(of_kind(report, "CRC changed"), wanted)

    def test_a_kernel_without_modversions_changes_no_crc(self):
        sid = self.sides["debian-sid"]
        self.assertEqual(sid.facts["config"]["CONFIG_MODVERSIONS"], "n")
        self.assertEqual({crc for crc, *_ in self.raw["debian-sid"].values()}, {0})
        report = self.report("debian-12", "debian-sid")
        self.assertEqual(of_kind(report, "CRC changed"), set())
        self.assertIn("symbol versions off", {f.kind for f in report.findings})

    def test_kernel_facts_match_a_module_built_against_the_headers(self):
        built = kabi_support.test_module("debian-12")
        vermagic = subprocess.run(["modinfo", "-F", "vermagic", str(built)], capture_output=True,
                                  text=True, check=True).stdout.strip()
        self.assertEqual(self.sides["debian-12"].facts["vermagic"].strip(), vermagic)
        sections = subprocess.run(["readelf", "-S", "-W", str(built)], capture_output=True,
                                  text=True, check=True).stdout
        line = next(l for l in sections.splitlines() if ".gnu.linkonce.this_module" in l
                    and ".rela" not in l)
        size = int(line.split("]", 1)[1].split()[4], 16)
        self.assertEqual(self.sides["debian-12"].facts["this_module_size"], size)
        self.assertNotEqual(self.sides["debian-13"].facts["this_module_size"], size)

    def test_all_area_covers_vmlinux(self):
        report = compare.compare(self.sides["debian-12"], self.sides["debian-13"], "all")
        self.assertTrue(any(f.library == "vmlinux" for f in report.findings))
        self.assertGreater(report.summary()["exports_compared"], 20000)


class TestModule(unittest.TestCase):
    """The test module built against 6.1, read and predicted on every kernel."""

    @classmethod
    def setUpClass(cls):
        cls.ko = kabi_support.test_module("debian-12")
        cls.module = modules.read(cls.ko)
        cls.sides = {s: facts.side(s, full=True) for s in STACKS}

    def test_read_like_the_standard_tools(self):
        dump = subprocess.run(["modprobe", "--dump-modversions", str(self.ko)],
                              capture_output=True, text=True, check=True).stdout
        self.assertEqual(self.module.versions,
                         {l.split("\t")[1]: int(l.split("\t")[0], 16) for l in dump.splitlines()})
        nm = subprocess.run(["nm", "-u", str(self.ko)], capture_output=True, text=True,
                            check=True).stdout
        self.assertEqual(set(self.module.undefined), {l.split()[-1] for l in nm.splitlines()})
        self.assertIn("ib_register_client", self.module.undefined)
        self.assertEqual(self.module.depends, ["ib_core"])
        self.assertEqual(self.module.license, "GPL")

    def test_prediction_on_each_kernel(self):
        got = {s: predict.predict(self.module, side) for s, side in self.sides.items()}
        self.assertTrue(got["debian-12"].loads)
        self.assertEqual(got["debian-12"].messages, [])
        # 5.10 has no struct module size check: its module_layout CRC refuses the module.
        self.assertEqual((got["debian-11"].check, got["debian-11"].messages),
                         ("module_layout", ["rdmagate_kabi_test: disagrees about version of "
                                            "symbol module_layout"]))
        for stack in ("debian-13", "debian-sid"):
            self.assertEqual(got[stack].check, "struct module size")
            self.assertEqual(got[stack].first, "module rdmagate_kabi_test: "
                             ".gnu.linkonce.this_module section size must match the kernel's "
                             "built struct module size at run time")
            self.assertEqual(kabi_record.Module.of(got[stack]).insmod, "Invalid module format")

    def test_a_crc_that_disagrees_names_the_symbol(self):
        other = kabi_support.with_crc(self.ko, "ib_register_client", 0x12345678,
                                      kabi_support.scratch() / "other-abi.ko")
        got = predict.predict(modules.read(other), self.sides["debian-12"])
        self.assertFalse(got.loads)
        self.assertEqual(got.messages, [
            "rdmagate_kabi_test: disagrees about version of symbol ib_register_client",
            "rdmagate_kabi_test: Unknown symbol ib_register_client (err -22)"])
        # Without symbol versions (sid), CRCs are not checked at all.
        sid = replace(self.sides["debian-12"], facts={
            **self.sides["debian-12"].facts, "config": {"CONFIG_MODVERSIONS": "n"}})
        self.assertTrue(predict.predict(modules.read(other), sid).loads)

    def test_gpl_only_and_namespaces(self):
        side = self.sides["debian-12"]
        exports = dict(side.exports)
        was = exports["ib_register_client"]
        gpl = replace(side, exports={**exports, "ib_register_client":
                                     replace(was, kind="EXPORT_SYMBOL_GPL")})
        self.assertTrue(predict.predict(self.module, gpl).loads)
        proprietary = replace(self.module, license="Proprietary")
        got = predict.predict(proprietary, gpl)
        self.assertEqual(got.messages, ["rdmagate_kabi_test: Unknown symbol ib_register_client "
                                        "(err -2)"])
        spaced = replace(side, exports={**exports, "ib_register_client":
                                        replace(was, namespace="RDMA_CORE")})
        got = predict.predict(self.module, spaced)
        self.assertEqual(got.first, "rdmagate_kabi_test: module uses symbol (ib_register_client) "
                         "from namespace RDMA_CORE, but does not import it.")
        self.assertTrue(predict.predict(replace(self.module, import_ns=["RDMA_CORE"]),
                                        spaced).loads)

    def test_vermagic_is_compared_after_the_release_with_crcs(self):
        side = self.sides["debian-12"]
        renamed = replace(side, facts={**side.facts, "vermagic":
                                       "6.1.0-47-amd64 SMP preempt mod_unload modversions "})
        self.assertTrue(predict.predict(self.module, renamed).loads)
        flags = replace(side, facts={**side.facts, "vermagic":
                                     "6.1.0-50-amd64 SMP mod_unload modversions "})
        self.assertEqual(predict.predict(self.module, flags).first,
                         "rdmagate_kabi_test: version magic '6.1.0-50-amd64 SMP preempt "
                         "mod_unload modversions ' should be '6.1.0-50-amd64 SMP mod_unload "
                         "modversions '")


class Command(unittest.TestCase):
    """The command as a user runs it: output, exit codes, bad input."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-kabi-cmd-"))
        self.addCleanup(subprocess.run, ["rm", "-rf", "--", str(self.tmp)])

    def kabi(self, *args, env=None):
        return rdmagate("kabi", "--from", "debian-12", "--to", "debian-13",
                        "--results", str(self.tmp / "results"), *args, env=env)

    def assert_one_line(self, done, code: int, *words: str):
        self.assertEqual(done.returncode, code, done.stderr)
        # Progress goes to stderr too; the error is one line, the last.
        lines = [l for l in done.stderr.splitlines() if l.startswith("rdmagate: error:")]
        self.assertEqual(len(lines), 1, done.stderr)
        self.assertEqual(lines[0], done.stderr.strip().splitlines()[-1])
        self.assertNotIn("Traceback", done.stderr)
        for word in words:
            self.assertIn(word, lines[0])

    def test_the_run_directory_keeps_the_report_and_the_run(self):
        done = self.kabi("--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        out = json.loads(done.stdout)
        run_dir = Path(out["run_dir"])
        self.assertEqual(run_dir.parent, self.tmp / "results")
        self.assertEqual(json.loads((run_dir / "kabi.json").read_text())["summary"],
                         out["summary"])
        run = json.loads((run_dir / "run.json").read_text())
        self.assertEqual((run["command"], run["stack"], run["from_stack"], run["exit_code"]),
                         ("kabi", "debian-13", "debian-12", 0))
        self.assertEqual(run["verdict"], out["verdict"]["verdict"])

    def test_modules_that_would_not_load_are_no_go(self):
        ko = kabi_support.test_module("debian-12")
        done = self.kabi("--modules", str(ko), "--json")
        self.assertEqual(done.returncode, 1, done.stderr)
        data = json.loads(done.stdout)
        self.assertEqual(data["modules"][0]["check"], "struct module size")
        self.assertEqual(data["verdict"]["verdict"], "BREAKS")
        same = rdmagate("kabi", "--from", "debian-12", "--to", "debian-12", "--modules",
                        str(ko.parent), "--results", str(self.tmp / "results"))
        self.assertEqual(same.returncode, 0, same.stderr)
        self.assertIn("module rdmagate_kabi_test on 6.1.0-50-amd64: loads", same.stdout)

    def test_a_deb_of_compressed_modules(self):
        package = self.tmp / "pkg"
        (package / "DEBIAN").mkdir(parents=True)
        (package / "DEBIAN" / "control").write_text(
            "Package: site-kmod\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\n"
            "Description: a site's module\n")
        extra = package / "lib" / "modules" / "6.1.0-50-amd64" / "extra"
        extra.mkdir(parents=True)
        shutil.copy2(kabi_support.test_module("debian-12"), extra)
        subprocess.run(["xz", "--", str(extra / "rdmagate_kabi_test.ko")], check=True)
        deb = self.tmp / "site-kmod.deb"
        subprocess.run(["dpkg-deb", "-b", str(package), str(deb)], check=True,
                       capture_output=True)
        private = self.tmp / "tmp"      # the unpacked package goes here, and must go
        private.mkdir()
        done = rdmagate("kabi", "--from", "debian-12", "--to", "debian-12", "--modules", str(deb),
                        "--results", str(self.tmp / "results"), "--json",
                        env={"TMPDIR": str(private)})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(json.loads(done.stdout)["modules"][0]["loads"])
        self.assertEqual(list(private.iterdir()), [])

    def test_not_a_module(self):
        text = self.tmp / "notes.ko"
        text.write_text("not a module\n")
        self.assert_one_line(self.kabi("--modules", str(text)), 2, str(text), "not a kernel module")
        elf = self.tmp / "true.ko"
        elf.write_bytes(Path("/bin/true").read_bytes())
        self.assert_one_line(self.kabi("--modules", str(elf)), 2, str(elf), "not a kernel module")

    def test_truncated_module(self):
        ko = kabi_support.test_module("debian-12")
        for size in (40, 2000, len(ko.read_bytes()) - 4096):
            cut = self.tmp / f"cut{size}.ko"
            cut.write_bytes(ko.read_bytes()[:size])
            self.assert_one_line(self.kabi("--modules", str(cut)), 2, str(cut))

    def test_module_for_another_architecture(self):
        other = kabi_support.with_machine(kabi_support.test_module("debian-12"), 183,
                                          self.tmp / "arm64.ko")
        self.assert_one_line(self.kabi("--modules", str(other)), 2, str(other), "aarch64",
                             "e_machine")

    def test_missing_path_and_bad_options(self):
        self.assert_one_line(self.kabi("--modules", str(self.tmp / "nothing")), 2, "nothing")
        self.assert_one_line(self.kabi("--lab"), 2, "--modules")

    def test_a_headers_package_that_cannot_be_fetched(self):
        manifest = self.tmp / "debian-12-other.yaml"
        text = (Path(__file__).resolve().parents[3] / "stacks" / "debian-12.yaml").read_text()
        manifest.write_text(text.replace("name: debian-12", "name: debian-12-other")
                            .replace("6.1.0-50-amd64, version: 6.1.176-1",
                                     "6.1.0-50-amd64, version: 6.1.176-99"))
        # only this manifest's entry: tests running beside this one fill others
        entry = facts.entry(resolve(str(manifest)))
        siblings = set(entry.parent.glob("*")) if entry.parent.is_dir() else set()
        done = rdmagate("kabi", "--from", str(manifest), "--to", "debian-13",
                        "--results", str(self.tmp / "results"))
        self.assert_one_line(done, 2, "6.1.176-99")
        self.assertFalse(entry.exists(), sorted(entry.rglob("*")) if entry.exists() else "")
        self.assertEqual([p for p in entry.parent.glob("*") if p not in siblings
                          and p.name.startswith(".")], [])

    def test_a_release_name_never_becomes_a_path_outside_the_cache(self):
        manifest = self.tmp / "escape.yaml"
        text = (Path(__file__).resolve().parents[3] / "stacks" / "debian-12.yaml").read_text()
        manifest.write_text(text.replace("release: 6.1.0-50-amd64", "release: ../../escape"))
        done = rdmagate("kabi", "--from", str(manifest), "--to", "debian-13",
                        "--results", str(self.tmp / "results"))
        self.assert_one_line(done, 2, str(manifest), "kernel.release")

    def test_an_unreachable_archive_is_an_infrastructure_error(self):
        cache = self.tmp / "cache"
        done = rdmagate("kabi", "--from", "debian-12", "--to", "debian-13", "--area", "all",
                        "--results", str(self.tmp / "results"),
                        env={"RDMAGATE_CACHE": str(cache),
                             "RDMAGATE_MIRROR": "http://127.0.0.1:9/debian"})
        self.assert_one_line(done, 3, "cannot read the bookworm package lists")
        self.assertEqual(list(cache.glob("kabi/*/*/headers")), [])   # no entry half made

    def test_manifest_without_headers(self):
        manifest = self.tmp / "no-headers.yaml"
        text = (Path(__file__).resolve().parents[3] / "stacks" / "debian-12.yaml").read_text()
        manifest.write_text(text.split("  headers:")[0])
        done = rdmagate("kabi", "--from", str(manifest), "--to", "debian-13",
                        "--results", str(self.tmp / "results"))
        self.assert_one_line(done, 2, str(manifest), "kernel.headers")


if __name__ == "__main__":
    unittest.main()
