"""Helpers of the kabi tests: the test module built once per stack (cached
for the test process), and copies of it edited the way a module built
elsewhere would differ."""
import struct
import tempfile
from pathlib import Path

from rdmagate.kabi import build

_BUILT: dict[str, Path] = {}
_SCRATCH = tempfile.TemporaryDirectory(prefix="rdmagate-kabi-test-")


def test_module(stack: str = "debian-12") -> Path:
    """suites/kabi's module built against the stack's kernel headers."""
    if stack not in _BUILT:
        (_BUILT[stack],) = build.build(stack, Path(_SCRATCH.name) / stack)
    return _BUILT[stack]


def scratch() -> Path:
    return Path(_SCRATCH.name)


def with_crc(module: Path, symbol: str, crc: int, dest: Path) -> Path:
    """A copy whose __versions entry for symbol records another CRC: what a
    module built against another ABI of the kernel looks like."""
    data = bytearray(module.read_bytes())
    name = symbol.encode().ljust(56, b"\0")
    at = data.index(name) - 8
    assert at % 8 == 0 and data[at + 8:at + 64] == name
    struct.pack_into("<Q", data, at, crc)
    dest.write_bytes(bytes(data))
    return dest


def with_machine(module: Path, machine: int, dest: Path) -> Path:
    data = bytearray(module.read_bytes())
    struct.pack_into("<H", data, 0x12, machine)
    dest.write_bytes(bytes(data))
    return dest
