"""RDMA devices this host has, as the kernel lists them in sysfs."""
from pathlib import Path

SYSFS = Path("/sys/class/infiniband")


def present(sysfs: Path = SYSFS) -> list[str]:
    """Device names (mlx5_0, rxe0, ...) in kernel order; empty if none."""
    if not sysfs.is_dir():
        return []
    return sorted(entry.name for entry in sysfs.iterdir())


def port_states(device: str, sysfs: Path = SYSFS) -> dict[int, str]:
    """Port number -> state text (e.g. '4: ACTIVE') of one device."""
    states = {}
    for port in sorted((sysfs / device / "ports").glob("*")):
        state = port / "state"
        if port.name.isdigit() and state.exists():
            states[int(port.name)] = state.read_text().strip()
    return states
