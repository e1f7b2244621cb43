"""Targets: which one a command gets on every kind of host (the decision
alone), and what a target on this host does with an argv."""
import tempfile
import unittest
from unittest import mock
from pathlib import Path

from rdmagate import devices
from rdmagate.errors import InfraError, UsageError
from rdmagate.targets import Host, HostDevice, HostRxe, Lab, Wanted, choose


def pick(requested=None, lab=False, device=False, rootfs=False, present=(), qemu=True, rxe=False,
         nodes=1):
    return choose(Wanted("debian-12", requested, lab, device, rootfs, nodes),
                  Host.given(list(present), qemu, rxe))


class Choice(unittest.TestCase):
    def test_a_device_that_vanished(self):
        here = HostDevice("mlx5_0", "--device")
        with mock.patch.object(devices, "present", return_value=["mlx5_0", "mlx5_1"]):
            self.assertFalse(here.vanished())
        with mock.patch.object(devices, "present", return_value=["mlx5_1"]):
            self.assertTrue(here.vanished())
            self.assertFalse(Lab("debian-12", "--lab").vanished())   # the VM's own
            self.assertFalse(HostDevice("none", "no device needed").vanished())
            self.assertFalse(HostRxe("rxe here").vanished())   # made by each run

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
        self.assertEqual((where.name, where.device), ("host", "mlx5_0"))

    def test_named_device(self):
        self.assertEqual(pick("mlx5_1", device=True, present=["mlx5_0", "mlx5_1"]).device, "mlx5_1")
        with self.assertRaisesRegex(UsageError, "--device mlx5_9: no such RDMA device"):
            pick("mlx5_9", present=["mlx5_0"])

    def test_rxe_on_the_host_before_the_lab(self):
        where = pick(device=True, rxe=True)
        self.assertEqual((where.name, where.kind), ("host-rxe", "rxe"))

    def test_lab_when_nothing_else(self):
        where = pick(device=True)
        self.assertEqual((where.name, where.device, where.kind), ("lab", "rxe0", "rxe"))

    def test_lab_for_a_stack_that_needs_its_own_root(self):
        self.assertEqual(pick(rootfs=True, rxe=True).name, "lab")
        self.assertEqual(pick(rootfs=True, present=["mlx5_0"]).name, "lab")

    def test_no_device_needed_runs_here(self):
        where = pick()
        self.assertEqual((where.name, where.device, where.kind), ("host", "none", "none"))

    def test_no_qemu_and_no_device_is_an_infrastructure_error(self):
        with self.assertRaisesRegex(InfraError, "needs an RDMA device"):
            pick(device=True, qemu=False)
        with self.assertRaisesRegex(InfraError, "qemu-system-x86_64 is not installed"):
            pick(lab=True, qemu=False)

    def test_a_host_device_is_profiled_by_its_kind(self):
        # not in this host's sysfs: the kind falls back to the name's stem
        self.assertEqual(pick(present=["mlx5_0"], device=True).kind, "mlx5")
        self.assertEqual(pick(device=True).kind, "rxe")   # the lab's

    def test_two_nodes_are_the_lab(self):
        pair = pick(nodes=2, present=["mlx5_0"])
        self.assertEqual((pair.name, pair.nodes, pair.server_address), ("lab-2", 2, "10.77.0.1"))
        alone = pick(lab=True)
        self.assertEqual((alone.name, alone.nodes, alone.server_address), ("lab", 1, "10.0.2.15"))
        self.assertEqual((alone.flags(), alone.kernel_release().split(".")[:2]),
                         (["--lab"], ["6", "1"]))
        with self.assertRaisesRegex(ValueError, "two nodes"):
            alone.run(["true"], peer_argv=["true"])
        with self.assertRaisesRegex(ValueError, "two nodes"):
            pair.run(["true"])


class OnThisHost(unittest.TestCase):
    """A host target runs the argv here: every line reaches on_line, the
    exit status and the signal that killed it come back as they are."""

    def test_lines_and_exit_status(self):
        lines = []
        ran = HostDevice("none", "").run(["sh", "-c", "echo one; echo two >&1; exit 3"],
                                         on_line=lines.append)
        self.assertEqual((ran.exit_status, lines), (3, ["one", "two"]))
        self.assertEqual(ran.kernel, __import__("os").uname().release)
        killed = HostDevice("none", "").run(["sh", "-c", "kill -9 $$"])
        self.assertEqual(killed.exit_status, -9)

    def test_a_missing_program_is_an_infrastructure_error(self):
        with self.assertRaisesRegex(InfraError, "cannot run /nonexistent/x"):
            HostDevice("none", "").run(["/nonexistent/x"])


if __name__ == "__main__":
    unittest.main()
