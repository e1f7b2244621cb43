"""A target: where an argv runs. This host with its RDMA device, soft-RoCE
on this host, one lab guest, two lab guests joined by a link, a node of a
Slurm cluster. Callers ask a target to run an argv, stream its lines, and
say which kernel and device it is; none of them branches on where it is.

Shares are host directories the argv needs (a run directory, a build tree),
each (path, writable): a target that runs elsewhere makes them appear at
the same path there; a target on this host has them already."""
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Ran:
    """What running an argv at a target gave."""
    exit_status: int            # negative: killed by that signal
    kernel: str                 # the release it ran on
    record: dict = field(default_factory=dict)   # fields for run.json (the lab's boot figures)


class Target:
    name = ""          # what run.json's "where" says: host, host-rxe, lab, lab-2
    nodes = 1          # machines an argv and its peer run on
    runs_perftest = False   # perftest's jobs and addresses are the lab's own
    gid_index: str | None = None   # perftest's -x on this device; None: perftest's default
    exact = False      # figures on QEMU's instruction clock (a lab guest measuring)

    def __init__(self, device: str, why: str):
        self.device = device   # the RDMA device the argv uses, or "none"
        self.why = why

    @property
    def kind(self) -> str:
        """The device's kind, which names its hardware profiles: none, rxe,
        or the provider of a device of this host (mlx5, efa, irdma, ...)."""
        return "none" if self.device == "none" else "rxe"

    def identity(self) -> dict:
        """The hardware's vendor part id and firmware ({} for a soft device,
        whose kernel is all there is to it), which key its profiles."""
        return {}

    def kernel_release(self) -> str:
        raise NotImplementedError

    def for_measuring(self) -> "Target":
        """The target that measures performance here: itself, except the
        lab's guest, which measures on QEMU's instruction clock."""
        return self

    def run(self, argv: list[str], shares: Sequence[tuple[Path, bool]] = (),
            on_line=lambda line: None, say=lambda text: None, timeout: float | None = None,
            peer_argv: list[str] | None = None) -> Ran:
        """Run argv (and, on a target of two nodes, peer_argv on the first)
        and return its exit status; every output line goes to on_line."""
        raise NotImplementedError

    def in_own_root(self) -> bool:
        """True where the stack is the root's own /usr (the lab): its
        libraries are then where the C library looks by default."""
        return False

    def vanished(self) -> bool:
        """True when the device, there at the start, is gone: failures after
        that are its going, not the stack's."""
        return False

    def gone(self) -> str:
        """Why the device (or the node) went during the run; "" while it is there."""
        return f"device {self.device} vanished during the run" if self.vanished() else ""

    def lab_instead(self, stack_name: str) -> "Target | None":
        """The same place with a lab guest standing in for the device it lacks
        (a cluster node without one); None where there is no such."""
        return None

    def flags(self) -> list[str]:
        """The options of rdmagate that choose this target again."""
        return []

    def describe(self) -> str:
        return f"{self.device} ({self.name}: {self.why})"
