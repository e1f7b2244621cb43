"""Which devices a provider drives: the match table libibverbs walks to
pick a provider for a device (rdma-core's `struct verbs_match_ent`, each
provider's `hca_table`), read from the provider's data sections.

Debian's providers are stripped, so the table is found by its shape: on
x86-64 an entry is 24 bytes (driver_data, the modalias pointer or driver
id, a PCI vendor and device, a kind byte, 3 bytes of padding), and a table
is a run of entries ended by an all-zero one. An entry is only taken as one
when every field fits its kind: a PCI match has a vendor and no driver id,
a driver-id match has no PCI ids and an id below 256 (the kernel's
`enum rdma_driver_id`), a modalias match has no PCI ids. A run with no PCI
and no driver-id entry (a name match alone, as rxe and siw add) says too
little to be told from other data and is not kept.

The answer is what libibverbs would match a device by: the kernel
driver ids and the PCI ids (an x86-64 file: the inventory refuses others
first). None when no table is found (a provider of another layout,
libibverbs 1.1's providers)."""
import struct
from pathlib import Path

from . import elf

ENTRY = struct.Struct("<QQHHB3s")
SENTINEL = bytes(ENTRY.size)
PCI, MODALIAS, DRIVER_ID = 1, 2, 3
MOST_DRIVER_IDS = 256
SECTIONS = (".rodata", ".data.rel.ro")


def _entry(data: bytes, offset: int) -> tuple[int, int, int, int] | None:
    """(kind, driver id, vendor, device) of a plausible entry, else None."""
    _data, u, vendor, device, kind, pad = ENTRY.unpack_from(data, offset)
    if pad != b"\0\0\0":
        return None
    if kind == PCI and vendor and not u:
        return kind, 0, vendor, device
    if kind == DRIVER_ID and not vendor and not device and u < MOST_DRIVER_IDS:
        return kind, u, 0, 0
    if kind == MODALIAS and not vendor and not device and u:
        return kind, 0, 0, 0
    return None


def tables(data: bytes) -> list[list[tuple[int, int, int, int]]]:
    """Every run of plausible entries that ends at a sentinel, at 8-byte steps."""
    found, offset = [], 0
    while offset + ENTRY.size <= len(data):
        run, at = [], offset
        while at + ENTRY.size <= len(data) and (entry := _entry(data, at)):
            run.append(entry)
            at += ENTRY.size
        if run and data[at:at + ENTRY.size] == SENTINEL and \
                any(kind in (PCI, DRIVER_ID) for kind, *_ in run):
            found.append(run)
            offset = at + ENTRY.size
        else:
            offset += 8
    return found


def of(path: Path) -> dict | None:
    """{"driver_ids": [...], "pci": ["8086:37d0", ...]} of a provider file."""
    driver_ids: set[int] = set()
    pci: set[str] = set()
    for name in SECTIONS:
        for run in tables(elf.section(path, name) or b""):
            for kind, driver_id, vendor, device in run:
                if kind == DRIVER_ID:
                    driver_ids.add(driver_id)
                elif kind == PCI:
                    pci.add(f"{vendor:04x}:{device:04x}")
    if not driver_ids and not pci:
        return None
    return {"driver_ids": sorted(driver_ids), "pci": sorted(pci)}


def describe(table: dict) -> str:
    """'10 PCI ids, kernel driver id 9' of a table of()."""
    pci, ids = table["pci"], table["driver_ids"]
    return ", ".join(filter(None, (f"{len(pci)} PCI ids" if pci else "",
                                   f"kernel driver id {', '.join(map(str, ids))}" if ids else "")))


def taken_over(removed: dict | None, remaining: dict[str, dict | None]) -> list[str]:
    """The providers of remaining that match every device the removed one
    matched (each of its PCI ids, and its driver ids when it matched by id
    only), sorted; [] when some device is matched by none, or a table is
    not known."""
    if not removed or not any(remaining.values()):
        return []
    wanted_pci = set(removed["pci"])
    wanted_ids = set(removed["driver_ids"]) if not wanted_pci else set()
    takers = []
    for name, table in sorted(remaining.items()):
        if not table:
            continue
        covers = wanted_pci & set(table["pci"]) or wanted_ids & set(table["driver_ids"])
        if covers:
            takers.append((name, covers))
    covered = set().union(*(c for _, c in takers)) if takers else set()
    if covered != (wanted_pci or wanted_ids):
        return []
    return [name for name, _ in takers]
