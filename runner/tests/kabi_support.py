"""Helpers of the kabi tests: the test module built once per stack (cached
for the test process), and copies of it edited the way a module built
elsewhere would differ."""
import hashlib
import shutil
import struct
import tempfile
from pathlib import Path

from rdmagate.kabi import build, facts
from rdmagate.stacks import resolve

_BUILT: dict[str, Path] = {}
_SCRATCH = tempfile.TemporaryDirectory(prefix="rdmagate-kabi-test-")


def test_module(stack: str = "debian-12") -> Path:
    """suites/kabi's module built against the stack's kernel headers: kept in
    the cache beside those headers, keyed by its sources, so the test files
    (and runs) share one build."""
    if stack not in _BUILT:
        sources = sorted(p for p in build.TEST_MODULE.iterdir() if p.is_file())
        key = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in sources))
        dest = facts.entry(resolve(stack)) / "test-module" / key.hexdigest()[:12]
        if not dest.is_dir():
            # the headers first: they make the cache entry the partial build goes in
            facts.headers_dir(resolve(stack))
            made = Path(tempfile.mkdtemp(dir=dest.parent.parent, prefix=".test-module.partial-"))
            try:
                build.build(stack, made)
                dest.parent.mkdir(exist_ok=True)
                made.rename(dest)
            except OSError:      # another test process finished it first
                shutil.rmtree(made, ignore_errors=True)
            finally:
                shutil.rmtree(made, ignore_errors=True)
        (_BUILT[stack],) = sorted(dest.glob("*.ko"))
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
