"""Where a command runs (see base.py): choose() picks the target.

A device named with --device, else the first one this host has; else, when
a selected suite needs a device, soft-RoCE on this host if its kernel can
load rdma_rxe, else the lab (soft-RoCE in a Debian kernel under QEMU); the
lab too when the stack cannot run on this host's C library, or when two
nodes are asked for; else here, with no device, for the suites that need
none."""
from dataclasses import dataclass
from functools import cached_property

from .. import devices
from ..errors import InfraError, UsageError
from . import lab
from .base import Ran, Target  # noqa: F401
from .host import HostDevice, HostRxe, rxe_possible
from .lab import Lab


@dataclass(frozen=True)
class Wanted:
    """Where a run was asked to go (its options) and what its suites need."""
    stack: str
    device: str | None = None         # --device
    lab: bool = False                 # --lab
    needs_device: bool = False        # a chosen suite needs an RDMA device
    needs_rootfs: bool = False        # the stack cannot run on this host's C library
    nodes: int = 1                    # lab guests
    kernel: str | None = None         # another Debian kernel release: only the lab boots one
    guest_cpus: int | None = None     # --guest-cpus: only with the lab


class Host:
    """This host's facts as choose() reads them, each found when first
    asked; a test gives them instead (Host.given)."""

    @cached_property
    def devices(self) -> list[str]:
        return devices.present()

    @cached_property
    def qemu(self) -> bool:
        return lab.available()

    @cached_property
    def rxe(self) -> bool:
        return rxe_possible()

    @classmethod
    def given(cls, devices: list[str], qemu: bool, rxe: bool) -> "Host":
        host = cls()
        host.__dict__.update(devices=list(devices), qemu=qemu, rxe=rxe)
        return host


def choose(wanted: Wanted, host: Host | None = None) -> Target:
    host = host or Host()
    requested, kernel, nodes = wanted.device, wanted.kernel, wanted.nodes
    guest_cpus, needs_rootfs = wanted.guest_cpus, wanted.needs_rootfs
    if kernel and requested:
        raise UsageError(f"--kernel {kernel} boots that kernel in the lab; it cannot go with "
                         f"--device {requested}")
    if wanted.lab or nodes > 1 or kernel:
        why = "--lab" if wanted.lab else f"--kernel {kernel}" if kernel else f"--nodes {nodes}"
        if not host.qemu:
            raise InfraError(f"{why}: qemu-system-x86_64 is not installed: run ci/setup")
        return Lab(wanted.stack, why, nodes, kernel_release=kernel, guest_cpus=guest_cpus)
    if guest_cpus:
        raise UsageError(f"--guest-cpus {guest_cpus} sizes the lab's guest; it goes with --lab")
    if requested:
        if requested not in host.devices:
            raise UsageError(f"--device {requested}: no such RDMA device here "
                             f"(present: {', '.join(host.devices) or 'none'})")
        if needs_rootfs:
            raise UsageError(f"--device {requested}: this stack needs a newer C library "
                             "than this host's; run it with --lab")
        return HostDevice(requested, "--device")
    if host.devices and not needs_rootfs:
        first = host.devices[0]
        return HostDevice(first, f"first RDMA device of this host ({first})")
    if wanted.needs_device and not needs_rootfs and host.rxe:
        return HostRxe("this kernel can load rdma_rxe")
    if wanted.needs_device or needs_rootfs:
        if not host.qemu:
            what = "needs an RDMA device" if wanted.needs_device else "needs a newer C library"
            raise InfraError(f"the check {what} and this host has none; the lab needs "
                             "qemu-system-x86_64: run ci/setup")
        reason = "no RDMA device here" if wanted.needs_device else "the stack needs its own root"
        return Lab(wanted.stack, reason)
    return HostDevice("none", "no suite selected needs a device")


# What callers import from here (Ran and Target are base.py's, re-exported).
__all__ = ["HostDevice", "HostRxe", "Lab", "Ran", "Target", "choose", "rxe_possible"]
