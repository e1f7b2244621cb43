"""The lab as a target: one guest (soft-RoCE loopback on its rxe0), or two
guests joined by a virtual link, the peer argv on the first and the argv
on the second. Each run boots the stack's kernel afresh (see run.py)."""
from ...stacks import kernel_stack, resolve
from ..base import Ran, Target
from .qemu import InstructionClock
from .run import ALONE_ADDRESS, LINK_ADDRESSES, Boot, run as boot_and_run

DEVICE = "rxe0"


class Lab(Target):
    runs_perftest = True
    gid_index = "1"   # rxe's RoCEv2 GID of the guest's address

    def __init__(self, stack_name: str, why: str, nodes: int = 1,
                 kernel_release: str | None = None, guest_cpus: int | None = None,
                 clock: InstructionClock | None = None, memory_mb: int | None = None):
        super().__init__(DEVICE, why)
        self.clock = clock
        self.exact = clock is not None
        self.memory_mb = memory_mb
        self.guest_cpus = guest_cpus
        self.stack_name = stack_name
        self.nodes = nodes
        self.name = "lab" if nodes == 1 else f"lab-{nodes}"
        self.release = kernel_release

    @property
    def server_address(self) -> str:
        """Where a client reaches a server the peer argv (or itself) started:
        the guest's own address alone, node 1's across the link."""
        address = ALONE_ADDRESS if self.nodes == 1 else LINK_ADDRESSES[0]
        return address.split("/")[0]

    def for_measuring(self) -> "Lab":
        """One guest on the instruction clock: its figures are exact and the
        same on any host. Two guests stay on the wall clock (frames cross
        QEMU's network, which the instruction counter cannot make exact)."""
        if self.nodes != 1 or self.clock is not None:
            return self
        return Lab(self.stack_name, f"{self.why}; instruction clock for measuring", 1,
                   self.release, 1, InstructionClock(), self.memory_mb)

    def kernel_release(self) -> str:
        return self.release or kernel_stack(resolve(self.stack_name)).kernel["release"]

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        if bool(peer_argv) != (self.nodes == 2):
            raise ValueError("a peer argv is for a lab of two nodes, and it needs one")
        # one emulated CPU on the instruction clock boots about twice as long
        # (17-23 s against 7-10 s at a load of 4)
        boot = Boot(self.stack_name, self.release, self.nodes, self.guest_cpus, tuple(shares),
                    240 if self.clock else 120, self.clock, self.memory_mb)
        result = boot_and_run(boot, argv, peer_argv, timeout or 600, on_line, say)
        return Ran(result.exit_status, result.kernel,
                   {"lab": {"kernel": result.kernel, "accel": result.accel,
                            "boot_to_active_s": result.boot_to_active_s,
                            "guest_cpus": result.guest_cpus,
                            "guest_memory_mb": result.guest_memory_mb,
                            **({"clock": result.clock} if result.clock else {})}})

    def in_own_root(self) -> bool:
        return True

    def flags(self) -> list[str]:
        return ["--lab", *([f"--guest-cpus={self.guest_cpus}"] if self.guest_cpus else [])]
