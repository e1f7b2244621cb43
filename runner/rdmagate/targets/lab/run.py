"""Run a command in the lab: one or two guests with soft-RoCE.

What the guest's root is:
- a stack whose C library the host meets (host, debian-11, debian-12, a
  prefix): the host's root, read-only over 9p under a tmpfs overlay, with the
  stack's own /usr overlaid on the host's /usr and its etc/libibverbs.d bound
  over the host's, so libibverbs, its providers and tools are the stack's;
- a stack that needs a newer C library (debian-13, debian-sid): the stack's
  mmdebstrap root file system, shared the same way.

The control share (a temporary directory, /run/rdmagate-lab in the guest)
carries the configuration in, the command's argv as a NUL-separated file,
and the exit status out. Other host directories (the run directory, a build)
are shared at their own paths. Two nodes are joined by a QEMU datagram link on
127.0.0.1; node 1 runs --server, node 2 the command with RDMAGATE_PEER set.
"""
import os
import queue
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ... import interrupt
from ...errors import InfraError
from ...stacks import fetch, resolve
from . import initramfs, kernel as kernels, qemu
from .vm import VM

GUEST_SCRIPT = Path(__file__).with_name("guest.sh")
LINK_ADDRESSES = ("10.77.0.1/24", "10.77.0.2/24")   # the guests' own virtual link only
ALONE_ADDRESS = "10.0.2.15/24"
ACTIVE_MARK = "rdmagate-lab: rxe0 ACTIVE"
ERROR_MARK = "rdmagate-lab: guest error:"


@dataclass
class LabResult:
    exit_status: int
    accel: str
    kernel: str
    boot_to_active_s: dict = field(default_factory=dict)
    total_s: float = 0.0      # from the first QEMU start to the last power-off
    prepare_s: float = 0.0    # before QEMU: stack fetch, kernel, initramfs, KVM probe
    guest_cpus: int = 0       # each guest's
    guest_memory_mb: int = 0
    clock: dict | None = None # the instruction clock's facts; None: the wall clock


def _free_udp_ports() -> tuple[int, int]:
    """Two distinct free UDP ports on 127.0.0.1, one per node."""
    with socket.socket(type=socket.SOCK_DGRAM) as a, socket.socket(type=socket.SOCK_DGRAM) as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        return a.getsockname()[1], b.getsockname()[1]


@dataclass(frozen=True)
class Boot:
    """What the lab boots: the stack, its kernel, its guests and what they share."""
    stack: str
    kernel_release: str | None = None      # another Debian kernel (default: the stack's)
    nodes: int = 1
    guest_cpus: int | None = None          # each guest's (default_guest_cpus)
    binds: tuple[tuple[Path, bool], ...] = ()   # host directories shared at their own paths
    boot_timeout: float = 120              # until rxe0 is ACTIVE
    clock: qemu.InstructionClock | None = None   # measure on QEMU's instruction clock (one CPU)
    memory_mb: int | None = None           # each guest's (default qemu.Guest's)


@dataclass(frozen=True)
class Node:
    """One guest's part: its address on the link, its peer's, and its argv."""
    address: str
    peer: str
    argv: list[str]
    server_argv: list[str] | None = None   # node 1 of two: the server it starts first


def _write_node(me: Path, node: Node, boot: Boot, stack_usr: bool) -> None:
    """The guest's configuration in its control directory, read by guest.sh."""
    (me / "binds").mkdir(parents=True)
    for name, value in (("address", node.address), ("peer", node.peer),
                        ("active_timeout", str(int(boot.boot_timeout))),
                        ("cwd", os.getcwd())):
        (me / name).write_text(value + "\n")
    (me / "argv").write_bytes(b"\0".join(a.encode() for a in node.argv))
    if node.server_argv:
        (me / "server_argv").write_bytes(b"\0".join(a.encode() for a in node.server_argv))
    if stack_usr:
        (me / "stack_usr").touch()
    for index, (path, writable) in enumerate(boot.binds):
        bind = me / "binds" / str(index)
        bind.mkdir()
        (bind / "target").write_text(f"{path}\n")
        (bind / "mode").write_text("rw\n" if writable else "ro\n")
        (bind / "tag").write_text(f"bind{index}\n")


def _guest_root(fetched) -> tuple[Path, Path | None]:
    """(root to share, stack tree to overlay on its /usr or None)."""
    if fetched.needs_rootfs:
        if fetched.rootfs is None:
            raise InfraError(f"stack {fetched.stack.name} needs its root file system: "
                             f"rdmagate stacks fetch {fetched.stack.name}")
        return fetched.rootfs, None
    if fetched.stack.kind == "host" or not (fetched.root / "usr").is_dir():
        return Path("/"), None
    return Path("/"), fetched.root


def default_guest_cpus(nodes: int) -> int:
    """Each guest's CPUs unless --guest-cpus says: two guests on a 2-core machine get one each."""
    return 2 if nodes == 1 else 1


@dataclass
class _Prepared:
    kern: kernels.Kernel
    initrd: Path
    accel: str
    root: Path
    stack_tree: Path | None
    started: float                         # monotonic, as QEMU starts
    prepare_s: float


def _prepare(boot: Boot, say) -> _Prepared:
    """The kernel, initramfs, accelerator and root; boot figures count from
    its end (a cold cache, depmod, the KVM probe are prepare_s)."""
    if not qemu.available():
        raise InfraError(f"{qemu.QEMU} is not installed: run ci/setup")
    if boot.nodes not in (1, 2):
        raise InfraError("the lab runs 1 or 2 nodes")
    if boot.nodes == 2 and not qemu.has_netdev("dgram"):
        raise InfraError(f"{qemu.QEMU} has no dgram netdev (QEMU 7.2 or later), which "
                         "joins two lab nodes")
    interrupt.check()   # a stopped run starts no guest
    preparing = time.monotonic()
    stack = resolve(boot.stack)
    fetched = fetch(stack, say=say)
    kern = kernels.prepare(stack, boot.kernel_release, say=say)
    initrd = initramfs.build(kern)
    accel = qemu.choose_accel(kern.vmlinuz, initrd, say=say)
    root, stack_tree = _guest_root(fetched)
    started = time.monotonic()
    return _Prepared(kern, initrd, accel, root, stack_tree, started,
                     round(started - preparing, 1))


def _guests(boot: Boot, ready: _Prepared, work: Path, argv: list[str],
            server_argv: list[str] | None) -> list[qemu.Guest]:
    """Each node's configuration written under work, and its QEMU guest."""
    shutil.copy2(GUEST_SCRIPT, work / "guest.sh")
    nodes = boot.nodes
    ports = _free_udp_ports() if nodes == 2 else (0, 0)
    guests = []
    for number in range(1, nodes + 1):
        node = Node(LINK_ADDRESSES[number - 1] if nodes == 2 else ALONE_ADDRESS,
                    LINK_ADDRESSES[0].split("/")[0] if nodes == 2 and number == 2 else "",
                    argv, server_argv if number == 1 and nodes == 2 else None)
        _write_node(work / f"node{number}", node, boot, ready.stack_tree is not None)
        shares = [qemu.Share("lab", work, True), qemu.Share("root", ready.root),
                  qemu.Share("modules", ready.kern.modules.parent)]
        if ready.stack_tree is not None:
            shares.append(qemu.Share("stack", ready.stack_tree))
        shares += [qemu.Share(f"bind{i}", path, writable)
                   for i, (path, writable) in enumerate(boot.binds)]
        netdev = "user,id=n0,restrict=on" if nodes == 1 else qemu.link_netdev(number, ports)
        guests.append(qemu.Guest(ready.kern.vmlinuz, ready.initrd,
                                 f"console=ttyS0 panic=-1 quiet loglevel=3 rdmagate.node={number}",
                                 shares, netdev, f"52:54:00:12:34:0{number}",
                                 memory_mb=boot.memory_mb or qemu.Guest.memory_mb,
                                 cpus=1 if boot.clock else
                                 boot.guest_cpus or default_guest_cpus(nodes),
                                 clock=boot.clock))
    return guests


def shell(boot: Boot, argv: list[str], say=lambda text: None) -> None:
    """argv in one guest whose console is this terminal, with no limits
    (lab shell); returns when the guest powers off."""
    ready = _prepare(boot, say)
    work = Path(tempfile.mkdtemp(prefix="rdmagate-lab-"))
    vm = None
    try:
        guest = _guests(boot, ready, work, argv, None)[0]
        say(f"booting kernel {ready.kern.release} ({ready.accel}); leave the shell to stop "
            "the guest")
        vm = VM("node1", qemu.argv(guest, ready.accel), None)
        vm.proc.wait()
    finally:
        if vm:
            vm.kill()
        shutil.rmtree(work, ignore_errors=True)


def run(boot: Boot, argv: list[str], server_argv: list[str] | None = None,
        run_timeout: float = 600, on_line=print, say=lambda text: None) -> LabResult:
    """argv in the guests (on node 2 of two, after node 1 started
    server_argv), their consoles streamed to on_line, within the limits."""
    if boot.clock is not None and boot.guest_cpus not in (None, 1):
        raise InfraError(f"a guest on the instruction clock has one CPU, not {boot.guest_cpus}")
    ready = _prepare(boot, say)
    work = Path(tempfile.mkdtemp(prefix="rdmagate-lab-"))
    vms: list[VM] = []
    try:
        guests = _guests(boot, ready, work, argv, server_argv)
        lines: queue.Queue = queue.Queue()
        for node, guest in enumerate(guests, start=1):
            vms.append(VM(f"node{node}", qemu.argv(guest, ready.accel), lines))
        release = ready.kern.release
        say(f"booting {boot.nodes} guest(s) with kernel {release} "
            f"({f'instruction clock, {boot.clock.icount()}' if boot.clock else ready.accel})")
        active = _follow(vms, lines, boot.nodes, ready.started, boot.boot_timeout, run_timeout,
                         on_line)
        last = work / f"node{boot.nodes}" / "exit_status"
        if not last.exists():
            for vm in vms:
                killed_by = vm.exit_signal()
                if killed_by:
                    raise InfraError(f"the lab VM {vm.name} was killed (signal {killed_by}) "
                                     f"mid-run, and its rxe device with it (kernel "
                                     f"{release})")
            raise InfraError(f"the guest stopped without reporting an exit status "
                             f"(kernel {release}); see its console above")
        status = int(last.read_text().strip() or 125)
        if status == 125:
            raise InfraError("the guest could not set up soft-RoCE or the command (see above)")
        return LabResult(status, "tcg" if boot.clock else ready.accel, release, active,
                         time.monotonic() - ready.started, ready.prepare_s, guests[0].cpus,
                         guests[0].memory_mb, boot.clock.facts() if boot.clock else None)
    finally:
        for vm in vms:
            vm.kill()
        shutil.rmtree(work, ignore_errors=True)


def _follow(vms, lines, nodes, started, boot_timeout, run_timeout, on_line) -> dict:
    """Stream the consoles until every guest is gone; enforce the limits."""
    active: dict = {}
    ended: set = set()
    boot_deadline = time.monotonic() + boot_timeout
    run_deadline = None
    while len(ended) < len(vms):
        interrupt.check()
        now = time.monotonic()
        if run_deadline is None and now > boot_deadline:
            raise InfraError(f"soft-RoCE was not ACTIVE within {boot_timeout:.0f} s of boot; "
                             "the guests were stopped")
        if run_deadline is not None and now > run_deadline:
            raise InfraError(f"the guest command did not finish within {run_timeout:.0f} s; "
                             "the guests were stopped")
        try:
            name, line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            ended.add(name)
            continue
        if line.startswith(ACTIVE_MARK):
            active[name] = round(time.monotonic() - started, 1)
            if len(active) == nodes:
                run_deadline = time.monotonic() + run_timeout
        if line.startswith(ERROR_MARK) or not line.startswith("rdmagate-lab:") or nodes == 2:
            on_line(f"[{name}] {line}" if nodes == 2 else line)
    return active
