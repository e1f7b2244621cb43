"""Hardware profiles: per-kernel selection, capture mapping, ibv_devinfo."""
import tempfile
import unittest
from pathlib import Path

from rdmagate import devinfo, profiles
from rdmagate.errors import UsageError
from rdmagate.targets import HostDevice, Lab
from tests.support import FIXTURES, result

DEVINFO = FIXTURES / "devinfo"


class Devinfo(unittest.TestCase):
    def test_real_rxe_output(self):
        caps = devinfo.parse((DEVINFO / "rxe-6.12-debian-13.txt").read_text())
        self.assertEqual(caps["device"]["hca_id"], "rxe0")
        self.assertEqual(caps["device"]["max_qp_wr"], "1048576")
        self.assertEqual(caps["device"]["atomic_cap"], "ATOMIC_HCA (1)")
        self.assertIn("PORT_ACTIVE", caps["ports"]["1"]["state"])
        self.assertEqual(caps["ports"]["1"]["link_layer"], "Ethernet")
        self.assertFalse(any(key.startswith("GID") for key in caps["ports"]["1"]))

    def test_garbage_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not ibv_devinfo"):
            devinfo.parse("Failed to get IB devices list: Function not implemented\n")


class Selection(unittest.TestCase):
    def test_kernel_series(self):
        self.assertEqual(profiles.kernel_series("6.12.117+deb13-amd64"), "6.12")
        self.assertEqual(profiles.kernel_series("6.1.0-50-amd64"), "6.1")
        self.assertEqual(profiles.kernel_series("7.2.13+deb14-amd64"), "7.2")

    def test_rxe_profile_is_the_lab_kernels(self):
        self.assertEqual(profiles.name_for(Lab("debian-13", "--lab")), "rxe-6.12")
        self.assertEqual(profiles.name_for(Lab("debian-12", "--lab")), "rxe-6.1")
        # No profile captured for sid's 7.2: the generic one, which expects PASS.
        self.assertEqual(profiles.name_for(Lab("debian-sid", "--lab")), "rxe")
        self.assertEqual(profiles.name_for(HostDevice("none", "")), "none")

    def test_a_device_kind_with_no_profile_gets_the_generic_one(self):
        mlx5 = HostDevice("mlx5_0", "--device")
        with tempfile.TemporaryDirectory() as tmp:
            shown = []
            self.assertEqual(profiles.name_for(mlx5, Path(tmp)),
                             "mlx5")
            generic = profiles.load_for_device("mlx5", shown.append)
            self.assertEqual((generic["device"], generic["expect"]), ("any", {}))
            self.assertIn("no hardware profile 'mlx5'", shown[0])
            self.assertIn("profile capture --device", shown[0])
            # one captured on this kernel wins, and is loaded without a word
            series = profiles.kernel_series(__import__("os").uname().release)
            (Path(tmp) / f"mlx5-{series}.yaml").write_text(
                "device: mlx5\ndescription: ConnectX\nexpect:\n"
                "  verbs.xrc: {outcome: UNSUPPORTED, reason: r}\n")
            name = profiles.name_for(mlx5, Path(tmp))
            self.assertEqual(name, f"mlx5-{series}")
            shown.clear()
            own = profiles.load_for_device(name, shown.append, Path(tmp))
            self.assertEqual(own["expect"]["verbs.xrc"]["outcome"], "UNSUPPORTED")
            self.assertEqual(shown, [])

    def test_committed_rxe_profiles_load_and_were_captured(self):
        for name in ("rxe-6.1", "rxe-6.12"):
            data = profiles.load(name)
            self.assertTrue(data["verified"])
            self.assertIn("profile capture", data["captured"]["command"])
            self.assertEqual(data["capabilities"]["device"]["hca_id"], "rxe0")
            self.assertEqual(data["expect"]["verbs.xrc"]["outcome"], "UNSUPPORTED")

    def test_expected_fail_needs_a_reason(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.yaml"
            path.write_text("device: x\ndescription: d\nexpect:\n  verbs.send: {outcome: FAIL}\n")
            with self.assertRaisesRegex(UsageError, r"x.yaml: field expect.verbs.send: .*reason"):
                profiles.load("x", Path(tmp))


class CaptureMapping(unittest.TestCase):
    def test_raw_results_become_expectations(self):
        self.assertIsNone(profiles.expectation_of(result("verbs.x", "PASS", observed="")))
        self.assertEqual(profiles.expectation_of(result("verbs.x", "PASS",
                                                      observed="post_send=ENOMEM")),
                         {"outcome": "PASS", "observed": "post_send=ENOMEM"})
        self.assertEqual(profiles.expectation_of(result("verbs.x", "UNSUPPORTED", reason="no XRC")),
                         {"outcome": "UNSUPPORTED", "reason": "no XRC"})
        self.assertEqual(profiles.expectation_of(result("verbs.x", "FAIL", reason="assertion failed",
                                                      message="delivered 300 bytes")),
                         {"outcome": "FAIL", "reason": "delivered 300 bytes"})
        self.assertIsNone(profiles.expectation_of(result("verbs.x", "SKIP", reason="stack lacks")))

    def test_notes_survive_a_new_capture(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rxe-9.9.yaml"
            path.write_text("expect:\n  verbs.a: {outcome: FAIL, reason: r, note: upstream bug}\n")
            self.assertEqual(profiles.notes_of(path), {"verbs.a": "upstream bug"})


if __name__ == "__main__":
    unittest.main()
