"""Two kernel ABIs of one Debian release (manifests in tests/fixtures/kabi
naming an earlier kernel update: bookworm's 6.1.0-47, trixie's
6.12.107+deb13): what changes for modules between them, and the struct
named from BTF behind a changed CRC (6.12 ships a BTF vmlinux; the modules'
BTF comes from the kernel image)."""
import unittest
from pathlib import Path

from rdmagate.kabi import btf, build, compare, facts, modules, predict
from rdmagate.stacks import resolve
from tests import kabi_support

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kabi"
ABI47 = str(FIXTURES / "debian-12-abi47.yaml")
ABI107 = str(FIXTURES / "debian-13-abi107.yaml")


def raw(side) -> dict[str, int]:
    path = Path(side.source.split(" ", 1)[1]) / "Module.symvers"
    return {l.split("\t")[1]: int(l.split("\t")[0], 16) for l in path.read_text().splitlines()}


class SameRelease(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sides = {name: facts.side(name, full=True)
                     for name in ("debian-12", ABI47, "debian-13", ABI107)}

    def test_another_abi_of_6_1_refuses_the_module_on_module_layout(self):
        old, new = self.sides["debian-12"], self.sides[ABI47]
        self.assertNotEqual(raw(old)["module_layout"], raw(new)["module_layout"])
        self.assertEqual(old.facts["this_module_size"], new.facts["this_module_size"])
        got = predict.predict(modules.read(kabi_support.test_module("debian-12")), new)
        self.assertEqual((got.check, got.messages), ("module_layout", [
            "rdmagate_kabi_test: disagrees about version of symbol module_layout"]))

    def test_crc_findings_both_ways(self):
        report = compare.compare(self.sides[ABI107], self.sides["debian-13"])
        old, new = raw(self.sides[ABI107]), raw(self.sides["debian-13"])
        changed = {f.symbol for f in report.findings if f.kind == "CRC changed"}
        self.assertIn("ib_register_client", changed)
        self.assertNotEqual(old["ib_register_client"], new["ib_register_client"])
        same = {s for s in changed if old[s] == new[s]}
        self.assertEqual(same, set())
        unchanged = [s for s in old if s in new and old[s] == new[s] and s.startswith("ib_")]
        self.assertIn("ib_event_msg", unchanged)
        self.assertFalse({f.symbol for f in report.findings} & set(unchanged))

    def test_btf_names_the_struct_behind_a_changed_crc(self):
        report = compare.compare(self.sides[ABI107], self.sides["debian-13"])
        self.assertGreater(btf.name_types(report), 100)
        detail = next(f.detail for f in report.findings if f.symbol == "ib_alloc_mr")
        self.assertIn("types changed: struct ib_device (size 2928 -> 2944", detail)
        # 6.1 ships no BTF vmlinux in its headers: nothing is named, nothing fails.
        other = compare.compare(self.sides["debian-12"], self.sides[ABI47])
        self.assertEqual(btf.name_types(other), 0)

    def test_without_crcs_btf_says_which_kept_exports_changed_type(self):
        # sid's 7.2 checks no CRCs: the type changes behind its exports are findings.
        sid = facts.side("debian-sid", full=True)
        report = compare.compare(self.sides["debian-13"], sid)
        self.assertGreater(btf.name_types(report), 100)
        found = {f.symbol: f for f in report.findings if f.kind == "type changed"}
        self.assertEqual(found["ib_register_client"].severity, "review")
        # 6.12.117's struct ib_device is 2944 bytes seen from either side.
        self.assertIn("struct ib_device (size 2944 -> 3016", found["ib_register_client"].detail)
        self.assertEqual(report.summary()["by_kind"]["type changed"], len(found))

    def test_the_compiler_each_kernel_was_built_with(self):
        # The host's gcc 12 builds for 6.1; 6.12 needs gcc 14 (a trixie build root).
        self.assertEqual(build.compiler(facts.headers_dir(resolve("debian-12"))), "gcc-12")
        self.assertEqual(build.compiler(facts.headers_dir(resolve("debian-13"))),
                         "x86_64-linux-gnu-gcc-14")


if __name__ == "__main__":
    unittest.main()
