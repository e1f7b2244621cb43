"""Suppression files: they silence the same change in rdmagate and abidiff,
and no more than they say."""
import tempfile
import unittest
from pathlib import Path

from tests.support import abi_json, build_fake_stack, build_header_stack


def abi(old, new, *extra):
    return abi_json(old, new, "--no-consumers", *extra)


class ShippedSuppressions(unittest.TestCase):
    def test_mask_selected_struct_growth_is_suppressed_with_its_reason(self):
        done, report = abi("debian-12", "debian-13")
        (dropped,) = [s for s in report["suppressed"] if s["symbol"] == "mlx5dv_obj"]
        self.assertIn("rdma-core.suppr:", dropped["suppressed_by"])
        self.assertFalse([f for f in report["findings"] if f["symbol"] == "mlx5dv_obj"])
        done, report = abi("debian-12", "debian-13", "--no-default-suppressions")
        self.assertTrue([f for f in report["findings"] if f["symbol"] == "mlx5dv_obj"
                         and f["severity"] == "review"])


class UserSuppressions(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_suppressed_removed_symbol_no_longer_breaks(self):
        old = build_fake_stack(self.dir / "old", {"IBVERBS_1.0": ["ibv_foo", "ibv_bar"]})
        new = build_fake_stack(self.dir / "new", {"IBVERBS_1.0": ["ibv_foo"]})
        supp = self.dir / "mine.suppr"
        supp.write_text("# ibv_bar was never documented\n[suppress_function]\n"
                        "  symbol_name = ibv_bar\n")
        done, report = abi(f"prefix:{old}", f"prefix:{new}")
        self.assertEqual(done.returncode, 1)
        done, report = abi(f"prefix:{old}", f"prefix:{new}", "--suppressions", str(supp))
        self.assertEqual(done.returncode, 0, report and report["findings"])
        self.assertEqual(report["suppressed"][0]["symbol"], "ibv_bar")
        self.assertEqual(report["abidiff"]["libibverbs"] & 8, 0)   # abidiff heard it too

    def test_growth_suppression_does_not_hide_a_moved_member(self):
        old = build_header_stack(self.dir / "old")
        new = build_header_stack(self.dir / "new", plain="uint32_t b;\nuint32_t a;")
        supp = self.dir / "grow.suppr"
        supp.write_text("[suppress_type]\n  name = ibv_plain\n  has_data_member_inserted_at = end\n")
        done, report = abi(f"prefix:{old}", f"prefix:{new}", "--suppressions", str(supp))
        self.assertEqual(done.returncode, 1)
        self.assertTrue([f for f in report["findings"] if f["kind"] == "member moved"])

    def test_a_broken_file_is_an_error_naming_the_line(self):
        supp = self.dir / "bad.suppr"
        supp.write_text("[suppress_everything]\n  name = x\n")
        done, _ = abi("debian-12", "debian-13", "--suppressions", str(supp))
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"{supp}:1: unknown section [suppress_everything]", done.stderr)


if __name__ == "__main__":
    unittest.main()
