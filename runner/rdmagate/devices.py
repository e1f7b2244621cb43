"""RDMA devices this host has, as the kernel lists them in sysfs."""
import re
from pathlib import Path

SYSFS = Path("/sys/class/infiniband")


def present(sysfs: Path = SYSFS) -> list[str]:
    """Device names (mlx5_0, rxe0, ...) in kernel order; empty if none."""
    if not sysfs.is_dir():
        return []
    return sorted(entry.name for entry in sysfs.iterdir())


# The kernel driver of a device's parent -> the rdma-core provider that
# drives it from user space; the provider's name is the device's kind, as
# in hw-profiles/ and in the ABI findings ("provider mlx5 removed").
PROVIDER_OF_DRIVER = {
    "mlx5_core": "mlx5", "mlx4_core": "mlx4", "efa": "efa", "irdma": "irdma",
    "i40iw": "i40iw", "bnxt_en": "bnxt_re", "bnxt_re": "bnxt_re", "qede": "qedr",
    "qedr": "qedr", "hns3": "hns", "hns_roce_hw_v2": "hns", "vmw_pvrdma": "vmw_pvrdma",
    "cxgb4": "cxgb4", "hfi1": "hfi1verbs", "erdma": "erdma", "mana": "mana",
    "mana_ib": "mana", "be2net": "ocrdma", "ocrdma": "ocrdma",
}


def kind(device: str, sysfs: Path = SYSFS) -> str:
    """The provider kind of a device (mlx5, efa, irdma, rxe, siw, ...), from
    its parent's kernel driver: names can be renamed (rocep3s0f0), drivers
    cannot. A soft device has no parent device: siw is iWARP (an RNIC)."""
    driver = sysfs / device / "device" / "driver"
    if driver.exists():
        name = driver.resolve().name
        return PROVIDER_OF_DRIVER.get(name, name)
    node_type = sysfs / device / "node_type"
    if node_type.is_file():
        return "siw" if "RNIC" in node_type.read_text() else "rxe"
    return re.sub(r"_?\d+$", "", device) or device


def identity(device: str, sysfs: Path = SYSFS) -> dict:
    """A hardware device's vendor part id (its PCI device id, in decimal as
    ibv_devinfo prints vendor_part_id) and firmware version; {} for a soft
    device (no parent device), whose behaviour is its kernel's."""
    pci_id = sysfs / device / "device" / "device"
    if not pci_id.is_file():
        return {}
    fw_file = sysfs / device / "fw_ver"
    firmware = fw_file.read_text().strip() if fw_file.is_file() else ""
    return {"vendor_part_id": str(int(pci_id.read_text().strip(), 16)),
            "fw_ver": firmware or "unknown"}
