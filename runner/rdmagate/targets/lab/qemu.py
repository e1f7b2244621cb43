"""QEMU command lines for lab guests, and whether KVM can be used here."""
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ... import tools
from ...paths import cache_dir

# RDMAGATE_QEMU names another QEMU binary (one built elsewhere, or none to test
# how rdmagate copes without it).
QEMU = os.environ.get("RDMAGATE_QEMU", "qemu-system-x86_64")
PROBE_TIMEOUT_S = 8.0


@dataclass
class Share:
    tag: str
    path: Path
    writable: bool = False


@dataclass(frozen=True)
class InstructionClock:
    """The guest's clock as QEMU's instruction counter (-icount): with
    single-threaded TCG and one guest CPU, virtual time advances 1 ns per
    guest instruction (shift=0), whatever the host does, so a figure is the
    path length of what the guest ran. sleep=off: an idle guest's clock
    jumps to its next timer at once instead of waiting in real time, so
    the boot's idle waits cost no host time (the measured loops busy-poll
    and never idle). The CPU model is pinned by name: `max` follows the
    QEMU version, and with it the code the kernel patches in (the figure
    moved from 27096 ns with max to 27493 with Skylake-Client-v4)."""
    shift: int = 0
    sleep: str = "off"
    cpu_model: str = "Skylake-Client-v4"

    def icount(self) -> str:
        return f"shift={self.shift},sleep={self.sleep}"

    def facts(self) -> dict:
        """What a figure on this clock depends on besides the guest's software."""
        return {"kind": "instructions", "qemu": qemu_version(), "cpu_model": self.cpu_model,
                "icount": self.icount()}


@dataclass
class Guest:
    kernel: Path
    initrd: Path
    cmdline: str
    shares: list[Share] = field(default_factory=list)
    netdev: str = "user,id=n0,restrict=on"   # isolated: no way out of the guest
    mac: str = "52:54:00:12:34:01"
    memory_mb: int = 1024
    cpus: int = 2
    clock: InstructionClock | None = None   # None: multi-threaded TCG, the faster guest


def available() -> bool:
    return shutil.which(QEMU) is not None


def link_netdev(node: int, ports: tuple[int, int]) -> str:
    """The netdev of node 1 or 2 of a two-node lab: UDP datagrams between the
    two QEMUs on 127.0.0.1 (the dgram netdev, QEMU 7.2 and later). QEMU's TCP
    socket netdev carried a 2-byte RDMA WRITE round trip in ~23 ms typical
    here against ~0.7 ms over datagrams: frames on the stream waited on TCP's
    acknowledgements."""
    mine, theirs = ports[node - 1], ports[2 - node]
    return (f"dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port={mine},"
            f"remote.type=inet,remote.host=127.0.0.1,remote.port={theirs}")


def has_netdev(kind: str) -> bool:
    done = tools.run([QEMU, "-netdev", "help"], tools.QUICK)
    return kind in done.stdout.split()


def option_value(value) -> str:
    """A value inside a QEMU option string (key=value,key=value): QEMU reads a
    doubled comma as a comma of the value, a single one as the next key."""
    return str(value).replace(",", ",,")


def argv(guest: Guest, accel: str) -> list[str]:
    args = [QEMU, "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
            "-m", str(guest.memory_mb), "-smp", str(guest.cpus),
            "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
            "-append", guest.cmdline,
            "-netdev", guest.netdev,
            # romfile= : no option ROM, so no ipxe package is needed
            "-device", f"virtio-net-pci,netdev=n0,mac={guest.mac},romfile="]
    if guest.clock is not None:
        # one guest CPU: two under -icount hung at CPU bring-up (QEMU 7.2)
        if guest.cpus != 1:
            raise ValueError("a guest on the instruction clock has one CPU")
        args += ["-accel", "tcg,thread=single", "-icount", guest.clock.icount(),
                 "-cpu", guest.clock.cpu_model]
    else:
        args += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else \
            ["-accel", "tcg,thread=multi", "-cpu", "max"]
    for share in guest.shares:
        ro = "" if share.writable else ",readonly=on"
        args += ["-virtfs", f"local,path={option_value(share.path)},mount_tag={share.tag},"
                 f"security_model=none,multidevs=remap{ro}"]
    return args


def qemu_version() -> str:
    """QEMU's version line without its name ("7.2.22 (Debian 1:7.2+dfsg-7...)")."""
    try:
        done = subprocess.run([QEMU, "--version"], capture_output=True, text=True,
                              check=False, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    first = (done.stdout.splitlines() or ["unknown"])[0]
    return first.replace("QEMU emulator version ", "").strip() or "unknown"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def choose_accel(kernel: Path, initrd: Path, say=lambda text: None) -> str:
    """kvm if a guest really boots with it here, else tcg. A KVM guest can hang
    at boot on some hosts, so the probe is a short boot with a deadline; its
    answer is kept until the host reboots. RDMAGATE_LAB_ACCEL overrides."""
    forced = os.environ.get("RDMAGATE_LAB_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    record = cache_dir() / "lab" / "accel.json"
    try:
        saved = json.loads(record.read_text())
        if saved.get("boot_id") == _boot_id():
            return saved["accel"]
    except (OSError, ValueError, KeyError):
        pass
    say("probing whether KVM works here (a few seconds, once per host boot)")
    probe = Guest(kernel, initrd, "console=ttyS0 panic=-1 quiet rdmagate.probe=1", cpus=1,
                  memory_mb=256)
    proc = subprocess.Popen(argv(probe, "kvm"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    assert proc.stdout is not None   # stdout=PIPE
    accel = "tcg"
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        deadline, seen = time.monotonic() + PROBE_TIMEOUT_S, b""
        while time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stdout.read() or b""
            if b"rdmagate-lab: probe ok" in seen:
                accel = "kvm"
                break
            time.sleep(0.1)
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdout.close()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"boot_id": _boot_id(), "accel": accel}))
    return accel
