"""The kabi proof on real Debian kernels under QEMU: the test module of
suites/kabi, built against debian-12's 6.1 headers, loaded for real. One
guest boot per kernel, every module of that kernel loaded in it:

- 6.1 (debian-12, the kernel it was built for): loads, and its IB client
  sees rxe0; the same module with another CRC recorded for
  ib_register_client (as if built for another ABI of 6.1) is refused by
  the CRC check, with the kernel's own words;
- 6.1.0-47 (another ABI of the same release, tests/fixtures/kabi): refused
  on the CRC of module_layout;
- 6.12 (debian-13, the next release): refused on the size of struct module,
  while the same source built against 6.12's headers (gcc 14, in a trixie
  build root) loads in the same boot.
Each real outcome must match the offline prediction."""
import json
import shutil
import tempfile
import unittest
from pathlib import Path

from tests import kabi_support
from tests.support import rdmagate

HAVE_QEMU = shutil.which("qemu-system-x86_64") is not None
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kabi"


@unittest.skipUnless(HAVE_QEMU, "qemu-system-x86_64 is not installed")
class KabiLab(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-kabi-lab-test-"))
        cls.ko = kabi_support.test_module("debian-12")
        cls.ko612 = kabi_support.test_module("debian-13")
        cls.other = kabi_support.with_crc(cls.ko, "ib_register_client", 0x0badc0de,
                                          cls.tmp / "rdmagate_kabi_other.ko")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def prove(self, to: str, *modules: Path) -> tuple[int, dict]:
        to = str(FIXTURES / f"{to}.yaml") if (FIXTURES / f"{to}.yaml").is_file() else to
        done = rdmagate("kabi", "--from", "debian-12", "--to", to, "--lab", "--json",
                        "--results", str(self.tmp / "results"),
                        "--modules", *map(str, modules), env={"TMPDIR": str(self.tmp)})
        self.assertTrue(done.stdout.startswith("{"), done.stderr)
        self.assertEqual(list(self.tmp.glob("rdmagate-lab-*")), [])     # nothing left behind
        self.assertEqual(list(self.tmp.glob("rdmagate-kabi-lab-*")), [])
        return done.returncode, json.loads(done.stdout)

    def test_loads_into_its_own_kernel_and_not_with_another_crc(self):
        # The two copies share a module name: the first is unloaded before the second.
        code, data = self.prove("debian-12", self.ko, self.other)
        self.assertEqual(code, 1)    # the edited copy would not load: NO-GO
        good, bad = data["proofs"]
        self.assertTrue(good["loaded"] and good["agrees"], good)
        self.assertIn("rdmagate_kabi_test: registered (1 devices)", good["kernel_lines"])
        self.assertFalse(bad["loaded"])
        self.assertTrue(bad["agrees"], bad)
        self.assertEqual(data["modules"][1]["messages"], [
            "rdmagate_kabi_test: disagrees about version of symbol ib_register_client",
            "rdmagate_kabi_test: Unknown symbol ib_register_client (err -22)"])
        for line in data["modules"][1]["messages"]:
            self.assertIn(line, bad["kernel_lines"])

    def test_refused_by_the_next_release(self):
        code, data = self.prove("debian-13", self.ko, self.ko612)
        self.assertEqual(code, 1)
        proof, rebuilt = data["proofs"]
        self.assertTrue(rebuilt["loaded"] and rebuilt["agrees"], rebuilt)
        self.assertIn("rdmagate_kabi_test: registered (1 devices)", rebuilt["kernel_lines"])
        self.assertFalse(proof["loaded"])
        self.assertTrue(proof["agrees"], proof)
        self.assertEqual(proof["kernel_lines"][0], "module rdmagate_kabi_test: "
                         ".gnu.linkonce.this_module section size must match the kernel's "
                         "built struct module size at run time")
        self.assertIn("Invalid module format", proof["insmod"])

    def test_refused_by_another_abi_of_its_release(self):
        code, data = self.prove("debian-12-abi47", self.ko)
        self.assertEqual(code, 1)
        (proof,) = data["proofs"]
        self.assertEqual(proof["kernel"], "6.1.0-47-amd64")
        self.assertFalse(proof["loaded"])
        self.assertTrue(proof["agrees"], proof)
        self.assertEqual(proof["kernel_lines"][0], "rdmagate_kabi_test: disagrees about "
                         "version of symbol module_layout")


if __name__ == "__main__":
    unittest.main()
