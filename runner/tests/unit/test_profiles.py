"""Hardware profiles: selection per kernel (and part and firmware), expectations that
state what they expect, capture mapping, ibv_devinfo and capabilities compared."""
import copy
import os
import tempfile
import unittest
from pathlib import Path

from rdmagate import devices, devinfo, profiles
from rdmagate.errors import UsageError
from rdmagate.harness.run import compare_capabilities
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


class Capabilities(unittest.TestCase):
    """A capability the profile recorded that the device now has less of is
    named; more of it, or a field that names the device, is not."""

    def setUp(self):
        self.sid = devinfo.parse((DEVINFO / "rxe-7.2-debian-sid.txt").read_text())

    def test_odp_lists_are_read(self):
        device = self.sid["device"]
        self.assertEqual(device["rc_odp_caps"][:2], ["SUPPORT_SEND", "SUPPORT_RECV"])
        self.assertEqual(device["general_odp_caps"], ["ODP_SUPPORT"])
        self.assertEqual(device["uc_odp_caps"], [])   # "NO SUPPORT"
        # 6.12 lists no ODP at all
        old = devinfo.parse((DEVINFO / "rxe-6.12-debian-13.txt").read_text())
        self.assertEqual(old["device"]["rc_odp_caps"], [])

    def test_the_same_device_has_shrunk_nothing(self):
        self.assertEqual(devinfo.shrunk(self.sid, self.sid), [])

    def test_each_kind_of_shrinking_is_named(self):
        now = copy.deepcopy(self.sid)
        now["device"]["max_mr"] = "1024"
        now["device"]["device_cap_flags"] = hex(int(self.sid["device"]["device_cap_flags"], 16)
                                                & ~0x400)
        now["device"]["rc_odp_caps"].remove("SUPPORT_WRITE")
        now["device"]["atomic_cap"] = "ATOMIC_NONE (0)"
        now["ports"]["1"]["max_mtu"] = "1024 (3)"
        del now["device"]["max_srq"]
        # what names the device or its state now is no capability
        now["device"]["node_guid"] = "0000:0000:0000:0000"
        now["ports"]["1"]["active_mtu"] = "256 (1)"
        named = {name: (was, is_now) for name, was, is_now in devinfo.shrunk(self.sid, now)}
        self.assertEqual(set(named), {"max_mr", "device_cap_flags", "rc_odp_caps", "atomic_cap",
                                      "port1.max_mtu", "max_srq"})
        self.assertEqual(named["max_mr"], (self.sid["device"]["max_mr"], "1024"))
        self.assertIsNone(named["max_srq"][1])

    def test_growing_is_not_shrinking(self):
        old = devinfo.parse((DEVINFO / "rxe-6.12-debian-13.txt").read_text())
        # 6.12 -> 7.2 adds ODP; nothing 6.12 recorded is less on 7.2 but what is named here
        names = [name for name, _, _ in devinfo.shrunk(old, self.sid)]
        self.assertNotIn("rc_odp_caps", names)
        self.assertEqual(devinfo.shrunk(old["device"] | {}, {}), [])


class CapabilitiesInACheck(unittest.TestCase):
    """What check adds to a run's results from devinfo.txt and the profile."""

    def compared(self, text: str) -> list:
        profile = {"path": "hw-profiles/rxe-7.2.yaml",
                   "capabilities": devinfo.parse((DEVINFO / "rxe-7.2-debian-sid.txt").read_text())}
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "devinfo.txt").write_text(text)
            return compare_capabilities(Path(tmp), profile)

    def test_a_shrunk_capability_is_a_fail_of_its_own(self):
        text = (DEVINFO / "rxe-7.2-debian-sid.txt").read_text()
        [same] = self.compared(text)
        self.assertEqual((same.test, same.outcome), ("capabilities.compared", "PASS"))
        smaller = text.replace("\t\t\t\t\tSUPPORT_WRITE\n", "", 1)
        self.assertNotEqual(smaller, text)
        [shrunk] = self.compared(smaller)
        self.assertEqual((shrunk.test, shrunk.outcome, shrunk.reason),
                         ("capabilities.rc_odp_caps", "FAIL", "capability shrank"))
        self.assertIn("hw-profiles/rxe-7.2.yaml", shrunk.message)
        [broken] = self.compared("ibv_devinfo failed: 255\n")
        self.assertEqual(broken.outcome, "ERROR")


class Selection(unittest.TestCase):
    def test_kernel_series(self):
        self.assertEqual(profiles.kernel_series("6.12.117+deb13-amd64"), "6.12")
        self.assertEqual(profiles.kernel_series("6.1.0-50-amd64"), "6.1")
        self.assertEqual(profiles.kernel_series("7.2.13+deb14-amd64"), "7.2")

    def test_rxe_profile_is_the_lab_kernels(self):
        self.assertEqual(profiles.name_for(Lab("debian-13", "--lab")), "rxe-6.12")
        self.assertEqual(profiles.name_for(Lab("debian-12", "--lab")), "rxe-6.1")
        self.assertEqual(profiles.name_for(Lab("debian-sid", "--lab")), "rxe-7.2")
        self.assertEqual(profiles.name_for(HostDevice("none", "")), "none")

    def test_hardware_is_keyed_by_part_and_firmware(self):
        with tempfile.TemporaryDirectory() as tmp:
            sysfs = Path(tmp)
            (sysfs / "mlx5_0" / "device").mkdir(parents=True)
            (sysfs / "mlx5_0" / "device" / "device").write_text("0x101d\n")
            (sysfs / "mlx5_0" / "fw_ver").write_text("22.36.1010\n")
            (sysfs / "rxe0").mkdir()
            self.assertEqual(devices.identity("mlx5_0", sysfs),
                             {"vendor_part_id": "4125", "fw_ver": "22.36.1010"})
            self.assertEqual(devices.identity("rxe0", sysfs), {})

            class ConnectX6Dx(HostDevice):
                def identity(self):
                    return devices.identity(self.device, sysfs)
            name = profiles.name_for(ConnectX6Dx("mlx5_0", "--device"))
            series = profiles.kernel_series(os.uname().release)
            self.assertEqual(name, f"mlx5-part4125-fw22.36.1010-{series}")

    def test_a_device_with_no_profile_is_not_judged(self):
        with tempfile.TemporaryDirectory() as tmp:
            shown = []
            unjudged = profiles.load_for_device("mlx5-part4125-fw22.36.1010-6.12",
                                                shown.append, Path(tmp))
            self.assertEqual((unjudged.judging, unjudged.data["expect"]),
                             (profiles.Judging.NO_PROFILE, {}))
            self.assertIn("not judged", shown[0])
            self.assertIn("profile capture", shown[0])
            # one captured for it is loaded without a word, and judges
            (Path(tmp) / "mlx5-part4125-fw22.36.1010-6.12.yaml").write_text(
                "device: mlx5\ndescription: ConnectX-6 Dx\nexpect:\n"
                "  verbs.xrc: {outcome: UNSUPPORTED, reason: r}\n")
            shown.clear()
            own = profiles.load_for_device("mlx5-part4125-fw22.36.1010-6.12", shown.append,
                                           Path(tmp))
            self.assertEqual((own.judging, own.data["expect"]["verbs.xrc"]["outcome"]),
                             (profiles.Judging.PROFILE, "UNSUPPORTED"))
            self.assertEqual(shown, [])

    def test_unjudged_runs_fail_only_on_what_is_wrong_anywhere(self):
        code = profiles.unjudged_exit_code
        # What decides is the test's own mark (RG_EXPECT_DATA), not the
        # failure's wording: a failure that reads like a data check and is
        # not marked is judged by no profile here, and a marked one is wrong.
        self.assertEqual(code([result("verbs.xrc", "FAIL", failure="ibv_open_xrcd: EINVAL, "
                                      "not an errno of an unsupported call"),
                               result("verbs.x", "FAIL", failure="v_check(buf, 8, 1) == 1"),
                               result("verbs.dm", "UNSUPPORTED")]), 0)
        for wrong in (result("verbs.send", "FAIL", failure="the bytes did not land",
                             data_check=True),
                      result("verbs.advise_mr", "TIMEOUT"), result("verbs.mw", "CRASH")):
            self.assertEqual(code([result("verbs.a", "PASS"), wrong]), 1, wrong)
        self.assertEqual(code([result("verbs.a", "PASS"), result("verbs.b", "ERROR")]), 3)

    def test_committed_rxe_profiles_load_and_were_captured(self):
        for name in ("rxe-5.10", "rxe-6.1", "rxe-6.12", "rxe-7.2"):
            data = profiles.load(name)
            self.assertTrue(data["verified"])
            self.assertIn("profile capture", data["captured"]["command"])
            self.assertEqual(data["capabilities"]["device"]["hca_id"], "rxe0")
            self.assertEqual(data["expect"]["verbs.xrc"]["outcome"], "UNSUPPORTED")
        # no profile expects everything to pass
        self.assertFalse((profiles.PROFILES_DIR / "generic.yaml").exists())
        self.assertFalse((profiles.PROFILES_DIR / "rxe.yaml").exists())

    def test_bad_yaml_is_one_line_naming_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "x.yaml").write_text("expect:\n  a: b: c\n")
            for read in (lambda: profiles.load("x", Path(tmp)),
                         lambda: profiles.known_defects(Path(tmp) / "x.yaml")):
                with self.assertRaises(UsageError) as caught:
                    read()
                self.assertRegex(str(caught.exception), r"x.yaml: not valid YAML .*line 2")
                self.assertNotIn("\n", str(caught.exception))

    def test_expectations_state_what_they_expect(self):
        cases = (("{outcome: FAIL, failure: f}", "FAIL needs its reason"),
                 ("{outcome: FAIL, reason: r}", "FAIL needs its failure"),
                 ("{outcome: UNSUPPORTED}", "UNSUPPORTED needs its reason"),
                 ("{outcome: FAIL, reason: r, failure: 3}", "failure must be a string"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.yaml"
            for spec, words in cases:
                path.write_text(f"device: x\ndescription: d\nexpect:\n  verbs.send: {spec}\n")
                with self.assertRaisesRegex(UsageError, rf"x.yaml: field expect.verbs.send: .*{words}"):
                    profiles.load("x", Path(tmp))
            path.write_text("device: x\ndescription: d\nexpect:\n"
                            "  verbs.send: {outcome: FAIL, reason: r, failure: f}\n")
            self.assertEqual(profiles.load("x", Path(tmp))["expect"]["verbs.send"]["failure"], "f")


class CaptureMapping(unittest.TestCase):
    def test_raw_results_become_expectations_but_never_a_fail(self):
        self.assertIsNone(profiles.expectation_of(result("verbs.x", "PASS", observed="")))
        self.assertEqual(profiles.expectation_of(result("verbs.x", "PASS",
                                                      observed="post_send=ENOMEM")),
                         {"outcome": "PASS", "observed": "post_send=ENOMEM"})
        self.assertEqual(profiles.expectation_of(result("verbs.x", "UNSUPPORTED", reason="no XRC")),
                         {"outcome": "UNSUPPORTED", "reason": "no XRC"})
        self.assertIsNone(profiles.expectation_of(result("verbs.x", "FAIL", reason="assertion failed",
                                                       message="delivered 300 bytes")))
        self.assertIsNone(profiles.expectation_of(result("verbs.x", "SKIP", reason="stack lacks")))

    def test_a_recapture_keeps_the_note_of_every_entry_that_stays(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rxe-9.9.yaml"
            path.write_text("expect:\n"
                            "  verbs.plain: {outcome: PASS, note: passes since 6.1}\n"
                            "  verbs.seen: {outcome: PASS, observed: a=EINVAL, note: as rdma-core}\n"
                            "  verbs.none: {outcome: UNSUPPORTED, reason: no XRC, note: by design}\n"
                            "  verbs.known: {outcome: FAIL, reason: r, failure: f, note: bug 7}\n"
                            "  verbs.gone: {outcome: PASS, note: a test no longer run}\n")
            finished = [result("verbs.plain", "PASS"),
                        result("verbs.seen", "PASS", observed="a=EINVAL"),
                        result("verbs.none", "UNSUPPORTED", reason="no XRC"),
                        result("verbs.known", "FAIL", failure="f"),
                        result("verbs.skipped", "SKIP", reason="the stack lacks it"),
                        result("verbs.quiet", "PASS")]
            expect = profiles.captured(finished, profiles.notes_of(path),
                                       profiles.known_defects(path))
        self.assertEqual(expect, {
            "verbs.known": {"outcome": "FAIL", "reason": "r", "failure": "f", "note": "bug 7"},
            "verbs.none": {"outcome": "UNSUPPORTED", "reason": "no XRC", "note": "by design"},
            "verbs.plain": {"outcome": "PASS", "note": "passes since 6.1"},
            "verbs.seen": {"outcome": "PASS", "observed": "a=EINVAL", "note": "as rdma-core"}})

    def test_notes_and_known_defects_survive_a_new_capture(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rxe-9.9.yaml"
            path.write_text("expect:\n  verbs.a: {outcome: FAIL, reason: r, failure: f, "
                            "note: upstream bug}\n  verbs.b: {outcome: UNSUPPORTED, reason: x}\n")
            self.assertEqual(profiles.notes_of(path), {"verbs.a": "upstream bug"})
            self.assertEqual(list(profiles.known_defects(path)), ["verbs.a"])
            path.write_text("expect:\n  verbs.a: {outcome: FAIL, reason: r}\n")
            with self.assertRaisesRegex(UsageError, "rxe-9.9.yaml: field expect.verbs.a: .*failure"):
                profiles.known_defects(path)


if __name__ == "__main__":
    unittest.main()
