"""Where a check runs, for every kind of host (the decision alone)."""
import tempfile
import unittest
from pathlib import Path

from rdmagate import devices
from rdmagate.errors import InfraError, UsageError
from rdmagate.where import Where, choose, vanished


def pick(requested=None, lab=False, device=False, rootfs=False, present=(), qemu=True, rxe=False):
    return choose(requested, lab, device, rootfs, list(present), qemu, rxe)


class Choice(unittest.TestCase):
    def test_a_device_that_vanished(self):
        here = Where("host", "mlx5_0", "--device")
        self.assertFalse(vanished(here, ["mlx5_0", "mlx5_1"]))
        self.assertTrue(vanished(here, ["mlx5_1"]))
        self.assertFalse(vanished(Where("lab", "rxe0", "--lab"), []))   # the VM's own
        self.assertFalse(vanished(Where("host", "none", "no device needed"), []))

    def test_device_kind_is_its_provider(self):
        """From the parent's kernel driver (names can be anything), a soft
        device from its node type; a fixture sysfs tree as the kernel lays
        it out."""
        with tempfile.TemporaryDirectory() as tmp:
            sysfs = Path(tmp) / "class" / "infiniband"
            drivers = Path(tmp) / "bus" / "drivers"
            for device, driver in (("mlx5_0", "mlx5_core"), ("rocep1s0f0", "irdma"),
                                   ("efa_0", "efa"), ("bnxt_re0", "bnxt_en"),
                                   ("odd0", "newdriver")):
                parent = Path(tmp) / "devices" / device
                parent.mkdir(parents=True)
                (drivers / driver).mkdir(parents=True, exist_ok=True)
                (parent / "driver").symlink_to(drivers / driver)
                (sysfs / device).mkdir(parents=True)
                (sysfs / device / "device").symlink_to(parent)
            for device, node_type in (("rxe0", "1: CA"), ("my_soft", "1: CA"),
                                      ("siw0", "4: RNIC")):
                (sysfs / device).mkdir(parents=True)
                (sysfs / device / "node_type").write_text(node_type + "\n")
            kinds = {d: devices.kind(d, sysfs) for d in devices.present(sysfs)}
            self.assertEqual(kinds, {"bnxt_re0": "bnxt_re", "efa_0": "efa", "mlx5_0": "mlx5",
                                     "my_soft": "rxe", "odd0": "newdriver",
                                     "rocep1s0f0": "irdma", "rxe0": "rxe", "siw0": "siw"})

    def test_a_real_device_wins(self):
        where = pick(device=True, present=["mlx5_0", "mlx5_1"], rxe=True)
        self.assertEqual((where.place, where.device), ("host", "mlx5_0"))

    def test_named_device(self):
        self.assertEqual(pick("mlx5_1", device=True, present=["mlx5_0", "mlx5_1"]).device, "mlx5_1")
        with self.assertRaisesRegex(UsageError, "--device mlx5_9: no such RDMA device"):
            pick("mlx5_9", present=["mlx5_0"])

    def test_rxe_on_the_host_before_the_lab(self):
        where = pick(device=True, rxe=True)
        self.assertEqual((where.place, where.profile), ("host-rxe", "rxe"))

    def test_lab_when_nothing_else(self):
        where = pick(device=True)
        self.assertEqual((where.place, where.device, where.profile), ("lab", "rxe0", "rxe"))

    def test_lab_for_a_stack_that_needs_its_own_root(self):
        self.assertEqual(pick(rootfs=True, rxe=True).place, "lab")
        self.assertEqual(pick(rootfs=True, present=["mlx5_0"]).place, "lab")

    def test_no_device_needed_runs_here(self):
        where = pick()
        self.assertEqual((where.place, where.device, where.profile), ("host", "none", "none"))

    def test_no_qemu_and_no_device_is_an_infrastructure_error(self):
        with self.assertRaisesRegex(InfraError, "needs an RDMA device"):
            pick(device=True, qemu=False)
        with self.assertRaisesRegex(InfraError, "qemu-system-x86_64 is not installed"):
            pick(lab=True, qemu=False)

    def test_a_host_device_is_profiled_by_its_kind(self):
        # not in this host's sysfs: the kind falls back to the name's stem
        self.assertEqual(pick(present=["mlx5_0"], device=True).profile, "mlx5")
        self.assertEqual(pick(device=True).profile, "rxe")   # the lab's


if __name__ == "__main__":
    unittest.main()
