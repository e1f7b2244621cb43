"""Soft-RoCE on this host, when its kernel can load rdma_rxe: a temporary
rxe link on a network interface, removed again when the check ends."""
import contextlib
import os
import shutil
import subprocess
from pathlib import Path

LINK = "rdmagate_rxe0"


def _interface() -> str | None:
    """An up, non-loopback interface to put rxe on."""
    for net in sorted(Path("/sys/class/net").glob("*")):
        state = net / "operstate"
        if net.name != "lo" and state.exists() and state.read_text().strip() == "up":
            return net.name
    return None


def possible() -> bool:
    """True when creating an rxe link here would work: root, the rdma tool,
    a module the kernel can load (modprobe -n only looks), an interface."""
    if os.geteuid() != 0 or not shutil.which("rdma") or not shutil.which("modprobe"):
        return False
    loaded = Path("/sys/module/rdma_rxe").exists()
    if not loaded:
        dry = subprocess.run(["modprobe", "-n", "-q", "rdma_rxe"], capture_output=True, check=False)
        if dry.returncode != 0:
            return False
    return _interface() is not None


@contextlib.contextmanager
def link():
    """Create the rxe link for the duration of a check; always delete it."""
    netdev = _interface()
    subprocess.run(["modprobe", "rdma_rxe"], check=True, capture_output=True)
    subprocess.run(["rdma", "link", "add", LINK, "type", "rxe", "netdev", netdev],
                   check=True, capture_output=True)
    try:
        yield LINK
    finally:
        subprocess.run(["rdma", "link", "delete", LINK], check=False, capture_output=True)
