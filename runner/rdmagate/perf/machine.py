"""Where a measurement was taken: the machine's facts that decide how fast
the same code runs (perf baselines record them; a check compares them).

In the lab the fast path is soft-RoCE inside an emulated CPU, so what
matters is the host (CPU model and flags, cores, memory, kernel) and the
emulator (QEMU's version, its accelerator, the guest's CPUs and memory). On
a device it is the host and the device (its kind, firmware, PCIe link).
Two machines are the same when every fact of the fingerprint is equal;
memory counts in whole GiB (a kernel's reservations move MemTotal a little).

Beside the fingerprint a measurement keeps host_load: the host's load per
core (the 1-minute average over the cores), the highest taken before its
first boot and after each (less the guest's own CPUs, which that average
still holds after a boot). Under TCG the guest's CPUs are host threads, so
a busy host slows every figure of a lab run (a baseline recorded at a peak
of load had a median of 31.8 us where quiet runs gave 21-24 us); it is not
a fact of the machine, so it makes no other machine."""
import hashlib
import os
import platform
from pathlib import Path
from typing import Literal, get_args

from .stats import BootEffect

Where = Literal["lab", "device"]   # where a figure was measured: of_lab, of_device
WHERE = get_args(Where)

# the facts that make two machines the same one (everything else is shown only)
FINGERPRINT = ("where", "cpu_model", "cpu_flags", "cores", "memory_gib", "host_kernel",
               "qemu", "accel", "guest_cpus", "guest_memory_mb", "device", "firmware",
               "pcie_link", "clock")
# facts absent from wall-clock records: left out of a digest when absent, so
# the machine ids of histories kept before them stay as they were
OPTIONAL = ("clock",)
SYSFS_IB = Path("/sys/class/infiniband")
# How much lab boots of one stack differ beyond their runs (perf/stats.py):
# bench/perf_verdict.py on 2026-12-02, 20 plain and 20 slowed sessions of 16
# runs each (write_lat-2, debian-12, rxe-6.1, 2 guest CPUs, host load 1.2 to
# 4.3 on 2 cores): the sessions' log-medians spread by sd 0.131 and 0.082
# where their runs predicted 0.028, a boot component of about 0.08 to 0.13.
# On a device the runs are fresh processes with no boot between them: none.
LAB_BOOT_EFFECT = BootEffect(sd=0.10, df=19)
LOADED = 1.0   # host load per core above which a lab run's figures are slow


def _cpuinfo() -> dict:
    facts: dict = {}
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return facts
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags") and key not in facts:
            facts[key] = " ".join(value.split())
    return facts


def _memory_gib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / (1024 * 1024))
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _sysfs(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return "unknown"


def _host() -> dict:
    cpu = _cpuinfo()
    flags = cpu.get("flags", "")
    return {"cpu_model": cpu.get("model name", platform.processor() or "unknown"),
            # the flags themselves are long; their digest decides, the count is shown
            "cpu_flags": hashlib.sha256(flags.encode()).hexdigest()[:16],
            "cpu_flag_count": len(flags.split()),
            "cores": os.cpu_count() or 0, "memory_gib": _memory_gib(),
            "host_kernel": os.uname().release}


def of_lab(accel: str, guest_cpus: int, guest_memory_mb: int, clock: dict | None = None) -> dict:
    """clock: the instruction clock's facts (targets/lab/qemu.py), when the
    guest ran on it; its figures then depend on none of the host's facts."""
    from ..targets.lab import qemu
    facts = {"where": "lab", **_host(), "qemu": qemu.qemu_version(), "accel": accel,
             "guest_cpus": guest_cpus, "guest_memory_mb": guest_memory_mb}
    if clock:
        facts["clock"] = clock
    return facts


def of_device(device: str, kind: str) -> dict:
    """This host with an RDMA device of its own (a real HCA, or rxe here)."""
    facts = {"where": "device", **_host(), "device": f"{kind} {device}",
             "firmware": _sysfs(SYSFS_IB / device / "fw_ver")}
    speed = _sysfs(SYSFS_IB / device / "device" / "current_link_speed")
    width = _sysfs(SYSFS_IB / device / "device" / "current_link_width")
    facts["pcie_link"] = "none" if speed == width == "unknown" else f"{speed} x{width}"
    return facts


def of_target(target, ran) -> dict:
    """The machine a target's run (its Ran) measured on."""
    lab = ran.record.get("lab")
    if lab is not None:
        from ..targets.lab import qemu
        from ..targets.lab.run import default_guest_cpus
        cpus, memory = default_guest_cpus(target.nodes), qemu.Guest.memory_mb
        return of_lab(lab.get("accel", "unknown"), lab.get("guest_cpus", cpus),
                      lab.get("guest_memory_mb", memory), lab.get("clock"))
    return of_device(target.device, target.kind)


def boot_effect(facts: dict | None) -> BootEffect | None:
    """The boot effect where `facts` measured (perf/stats.py), or None."""
    return LAB_BOOT_EFFECT if (facts or {}).get("where") == "lab" else None


def host_load(own: int = 0) -> float:
    """The host's load per core now, less `own` runnable threads of ours."""
    return round(max(0.0, os.getloadavg()[0] - own) / (os.cpu_count() or 1), 2)


def loaded(m: dict | None) -> float | None:
    """The host load per core of a lab measurement when it passed LOADED
    (its figures are slow); None otherwise, or when it was not kept."""
    load = (m or {}).get("host_load")
    if (m or {}).get("clock"):   # the instruction clock: load moves no figure
        return None
    if (m or {}).get("where") != "lab" or not isinstance(load, (int, float)) or load <= LOADED:
        return None
    return float(load)


def same(a: dict | None, b: dict | None) -> bool:
    return bool(a and b and all(a.get(k) == b.get(k) for k in FINGERPRINT))


def describe(m: dict | None) -> str:
    """One line: 'AMD EPYC, 2 cores, 24 GiB, Linux 6.1.0-27; lab: QEMU 7.2.22 tcg, 2 guest CPUs'."""
    if not m:
        return "an unknown machine"
    host = (f"{m.get('cpu_model')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
            f"Linux {m.get('host_kernel')}")
    if m.get("where") == "lab":
        return (f"{host}; lab: QEMU {str(m.get('qemu')).split()[0]} {m.get('accel')}, "
                f"{m.get('guest_cpus')} guest CPUs")
    return f"{host}; device {m.get('device')} firmware {m.get('firmware')}"


def differences(a: dict, b: dict) -> list[str]:
    """The fingerprint facts that differ, as 'fact: A vs B'."""
    return [f"{k}: {a.get(k)} vs {b.get(k)}" for k in FINGERPRINT if a.get(k) != b.get(k)]
