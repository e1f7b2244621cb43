"""Where a check runs: on a real device here, or in the lab.

A device named with --device, else the first one this host has; else, when
a selected suite needs a device, soft-RoCE on this host if its kernel can
load rdma_rxe, else the lab (soft-RoCE in a Debian kernel under QEMU); the
lab too when the stack cannot run on this host's C library; else here, with
no device, for the suites that need none."""
from dataclasses import dataclass

from . import devices, host_rxe, lab
from .errors import InfraError, UsageError

LAB_DEVICE = "rxe0"


@dataclass(frozen=True)
class Where:
    place: str    # "host", "host-rxe" (a temporary rxe link here) or "lab"
    device: str   # a device name, or "none"
    why: str

    @property
    def profile(self) -> str:
        """The device's kind, which names its hardware profiles: none, rxe,
        or the provider of a device of this host (mlx5, efa, irdma, ...)."""
        if self.device == "none":
            return "none"
        if self.place in ("lab", "host-rxe"):
            return "rxe"
        return devices.kind(self.device)


def choose(requested: str | None, use_lab: bool, needs_device: bool, needs_rootfs: bool,
           present: list[str] | None = None, have_qemu: bool | None = None,
           rxe_here: bool | None = None) -> Where:
    present = devices.present() if present is None else present
    have_qemu = lab.available() if have_qemu is None else have_qemu
    if use_lab:
        if not have_qemu:
            raise InfraError("--lab: qemu-system-x86_64 is not installed: run ci/setup")
        return Where("lab", LAB_DEVICE, "--lab")
    if requested:
        if requested not in present:
            raise UsageError(f"--device {requested}: no such RDMA device here "
                             f"(present: {', '.join(present) or 'none'})")
        if needs_rootfs:
            raise UsageError(f"--device {requested}: this stack needs a newer C library "
                             "than this host's; run it with --lab")
        return Where("host", requested, "--device")
    if present and not needs_rootfs:
        return Where("host", present[0], f"first RDMA device of this host ({present[0]})")
    if needs_device and not needs_rootfs:
        rxe_here = host_rxe.possible() if rxe_here is None else rxe_here
        if rxe_here:
            return Where("host-rxe", host_rxe.LINK, "this kernel can load rdma_rxe")
    if needs_device or needs_rootfs:
        if not have_qemu:
            what = "needs an RDMA device" if needs_device else "needs a newer C library"
            raise InfraError(f"the check {what} and this host has none; the lab needs "
                             "qemu-system-x86_64: run ci/setup")
        reason = "no RDMA device here" if needs_device else "the stack needs its own root"
        return Where("lab", LAB_DEVICE, reason)
    return Where("host", "none", "no suite selected needs a device")


def vanished(where: Where, present: list[str] | None = None) -> bool:
    """A real device of this host, there at the start, that the kernel no
    longer lists: failures after that are its going, not the stack's."""
    if where.place != "host" or where.device == "none":
        return False
    return where.device not in (devices.present() if present is None else present)
