"""Where a command runs (see base.py): choose() picks the target.

A device named with --device, else the first one this host has; else, when
a selected suite needs a device, soft-RoCE on this host if its kernel can
load rdma_rxe, else the lab (soft-RoCE in a Debian kernel under QEMU); the
lab too when the stack cannot run on this host's C library, or when two
nodes are asked for; else here, with no device, for the suites that need
none."""
from .. import devices
from ..errors import InfraError, UsageError
from . import lab
from .base import Ran, Target  # noqa: F401
from .host import HostDevice, HostRxe, rxe_possible
from .lab import Lab


def choose(requested: str | None, use_lab: bool, needs_device: bool, needs_rootfs: bool,
           stack_name: str, nodes: int = 1, present: list[str] | None = None,
           have_qemu: bool | None = None, rxe_here: bool | None = None,
           kernel: str | None = None, guest_cpus: int | None = None) -> Target:
    """kernel: another Debian kernel release for the stack's userspace; only
    the lab boots a kernel, so it chooses the lab. guest_cpus: the lab
    guest's CPUs (--guest-cpus), only with the lab."""
    present = devices.present() if present is None else present
    have_qemu = lab.available() if have_qemu is None else have_qemu
    if kernel and requested:
        raise UsageError(f"--kernel {kernel} boots that kernel in the lab; it cannot go with "
                         f"--device {requested}")
    if use_lab or nodes > 1 or kernel:
        why = "--lab" if use_lab else f"--kernel {kernel}" if kernel else f"--nodes {nodes}"
        if not have_qemu:
            raise InfraError(f"{why}: qemu-system-x86_64 is not installed: run ci/setup")
        return Lab(stack_name, why, nodes, kernel_release=kernel, guest_cpus=guest_cpus)
    if guest_cpus:
        raise UsageError(f"--guest-cpus {guest_cpus} sizes the lab's guest; it goes with --lab")
    if requested:
        if requested not in present:
            raise UsageError(f"--device {requested}: no such RDMA device here "
                             f"(present: {', '.join(present) or 'none'})")
        if needs_rootfs:
            raise UsageError(f"--device {requested}: this stack needs a newer C library "
                             "than this host's; run it with --lab")
        return HostDevice(requested, "--device")
    if present and not needs_rootfs:
        return HostDevice(present[0], f"first RDMA device of this host ({present[0]})")
    if needs_device and not needs_rootfs:
        rxe_here = rxe_possible() if rxe_here is None else rxe_here
        if rxe_here:
            return HostRxe("this kernel can load rdma_rxe")
    if needs_device or needs_rootfs:
        if not have_qemu:
            what = "needs an RDMA device" if needs_device else "needs a newer C library"
            raise InfraError(f"the check {what} and this host has none; the lab needs "
                             "qemu-system-x86_64: run ci/setup")
        reason = "no RDMA device here" if needs_device else "the stack needs its own root"
        return Lab(stack_name, reason)
    return HostDevice("none", "no suite selected needs a device")


# What callers import from here (Ran and Target are base.py's, re-exported).
__all__ = ["HostDevice", "HostRxe", "Lab", "Ran", "Target", "choose", "rxe_possible"]
