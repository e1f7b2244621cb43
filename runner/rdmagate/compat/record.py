"""compat.json: what `rdmagate compat` found, typed and versioned."""
from dataclasses import dataclass, field
from pathlib import Path

from ..abi.loads import LoadRun
from ..outputs import records
from .checks import Check

FORMAT = 1


@dataclass
class Compat:
    image: str
    host: str
    devices: list[str]              # the device kinds the image must drive
    devices_from: str               # this host's devices, or --drivers
    checks: list[Check]
    verdict: str                    # GO, GO WITH RISKS, NO-GO
    loads: list[LoadRun] = field(default_factory=list)
    format: int = FORMAT


def write(found: Compat, path: Path) -> None:
    records.write(found, path)


def load(path: Path) -> Compat:
    return records.load(Compat, path, "a compat record (compat.json)")
