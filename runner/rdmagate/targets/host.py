"""Targets on this host: its own RDMA device, or a temporary soft-RoCE link
(when this kernel can load rdma_rxe), removed again when the run ends."""
import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

from .. import devices, interrupt, tools
from ..errors import InfraError
from .base import Ran, Target

RXE_LINK = "rdmagate_rxe0"


def run_here(argv: list[str], on_line, env: dict | None = None, with_stderr: bool = False,
             interruptible: bool = True) -> int:
    """Run argv here in its own session, each stdout line (and stderr's, with
    with_stderr) to on_line; its exit status (negative: killed by a signal).
    Ctrl-C reaches it first; with interruptible, a stop asked from another
    thread too (interrupt.py)."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT if with_stderr else None,
                                text=True, errors="replace", env=env, start_new_session=True)
    except OSError as err:
        raise InfraError(f"cannot run {argv[0]}: {err.strerror}") from None
    assert proc.stdout is not None   # stdout=PIPE
    try:
        guard: contextlib.AbstractContextManager = contextlib.nullcontext()
        if interruptible:
            guard = interrupt.Registered(proc)
        with guard:
            for line in proc.stdout:
                on_line(line.rstrip("\n"))
            status = proc.wait()
        interrupt.check()   # interrupted from another thread: no status to go on with
        return status
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class HostDevice(Target):
    """A real RDMA device of this host (or none, for suites that need none)."""
    name = "host"

    @property
    def kind(self) -> str:
        return "none" if self.device == "none" else devices.kind(self.device)

    def identity(self) -> dict:
        return {} if self.device == "none" else devices.identity(self.device)

    def kernel_release(self) -> str:
        return os.uname().release

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        if peer_argv:
            raise ValueError("a host target is one node")
        return Ran(run_here(argv, on_line), self.kernel_release())

    def vanished(self) -> bool:
        return self.device != "none" and self.device not in devices.present()

    def flags(self) -> list[str]:
        return ["--device", self.device] if self.device != "none" else []


class HostRxe(HostDevice):
    """Soft-RoCE on this host: a link made for each run, always deleted."""
    name = "host-rxe"

    def __init__(self, why: str):
        super().__init__(RXE_LINK, why)

    @property
    def kind(self) -> str:
        return "rxe"

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        with rxe_link():
            return super().run(argv, shares, on_line, say, timeout, peer_argv)

    def vanished(self) -> bool:
        return False   # made and deleted by each run

    def flags(self) -> list[str]:
        return []


def _interface() -> str | None:
    """An up, non-loopback interface to put rxe on."""
    for net in sorted(Path("/sys/class/net").glob("*")):
        state = net / "operstate"
        if net.name != "lo" and state.exists() and state.read_text().strip() == "up":
            return net.name
    return None


def rxe_possible() -> bool:
    """True when creating an rxe link here would work: root, the rdma tool,
    a module the kernel can load (modprobe -n only looks), an interface."""
    if os.geteuid() != 0 or not shutil.which("rdma") or not shutil.which("modprobe"):
        return False
    if not Path("/sys/module/rdma_rxe").exists():
        dry = tools.run(["modprobe", "-n", "-q", "rdma_rxe"], tools.QUICK)
        if dry.returncode != 0:
            return False
    return _interface() is not None


@contextlib.contextmanager
def rxe_link():
    """The rxe link for the duration of a run; always deleted."""
    netdev = _interface()
    if netdev is None:
        raise InfraError("soft-RoCE on this host: no network interface is up to put rxe on")
    steps: tuple[list[str], ...] = (
        ["modprobe", "rdma_rxe"],
        ["rdma", "link", "add", RXE_LINK, "type", "rxe", "netdev", netdev])
    for argv in steps:
        done = tools.run(argv, tools.QUICK)
        if done.returncode != 0:
            raise InfraError(f"soft-RoCE on this host: {' '.join(argv)} failed: "
                             f"{done.stderr.strip() or f'exit {done.returncode}'}")
    try:
        yield RXE_LINK
    finally:
        tools.run(["rdma", "link", "delete", RXE_LINK], tools.QUICK)
