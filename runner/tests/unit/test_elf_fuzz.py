"""A fuzz test of the ELF reader (stacks/elf.py) on mutated real Debian
libraries: every case ends in a result or in one UsageError naming the file,
never another exception, a hang or unbounded memory.

Seeded and bounded: CI runs CASES cases (RDMAGATE_FUZZ_CASES for more by
hand, RDMAGATE_FUZZ_SEED for another sequence); a failure names the seed and
case so it can be replayed alone."""
import os
import random
import resource
import struct
import tempfile
import time
import unittest
from pathlib import Path

from rdmagate.errors import UsageError
from rdmagate.stacks import elf, fetch, resolve

CASES = int(os.environ.get("RDMAGATE_FUZZ_CASES", "600"))
SEED = int(os.environ.get("RDMAGATE_FUZZ_SEED", "19"))
SECONDS_PER_CASE = 5.0     # a real library reads in milliseconds; a hang never ends
# The files fuzzed: what the inventory and the consumer scan really read.
SOURCES = ("usr/lib/x86_64-linux-gnu/libibverbs.so.1", "usr/lib/x86_64-linux-gnu/librdmacm.so.1",
           "usr/lib/x86_64-linux-gnu/libmlx5.so.1", "usr/bin/ibv_devinfo")
EXTREMES = (0, 1, 2, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1, 2**64 - 1)


def originals() -> list[bytes]:
    found = []
    for name in ("debian-11", "debian-13"):
        root = fetch(resolve(name), with_rootfs=False).root
        found += [(root / s).resolve().read_bytes() for s in SOURCES if (root / s).exists()]
    return found


def _put(data: bytearray, at: int, size: int, value: int) -> None:
    if 0 <= at and at + size <= len(data):
        data[at:at + size] = (value % (1 << (8 * size))).to_bytes(size, "little")


def mutate(rng: random.Random, original: bytes) -> bytes:
    """One mutant: a few of: a header field set to an extreme, a section
    header's field changed, bytes flipped in a version or symbol table,
    the file cut short."""
    data = bytearray(original)
    shoff = struct.unpack_from("<Q", original, 0x28)[0]
    shnum = struct.unpack_from("<H", original, 0x3C)[0]
    # (offset in the section header, size) of sh_name..sh_entsize
    fields = ((0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 4), (44, 4), (48, 8), (56, 8))
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        value = rng.choice(EXTREMES) if rng.random() < 0.6 else rng.getrandbits(64)
        if choice < 0.15:   # the ELF header: ident, shoff, shentsize, shnum, shstrndx
            at, size = rng.choice(((4, 1), (5, 1), (0x28, 8), (0x3A, 2), (0x3C, 2), (0x3E, 2)))
            _put(data, at, size, value)
        elif choice < 0.55:   # one field of one section header
            at, size = rng.choice(fields)
            _put(data, shoff + rng.randrange(max(shnum, 1)) * 64 + at, size,
                 value if rng.random() < 0.5 else value % 4096)
        elif choice < 0.85:   # bytes inside one section's contents
            index = rng.randrange(max(shnum, 1))
            offset, size = struct.unpack_from("<QQ", data, shoff + index * 64 + 24) \
                if shoff + index * 64 + 40 <= len(data) else (0, len(data))
            if size and offset < len(data):
                for _ in range(rng.randint(1, 8)):
                    at = offset + rng.randrange(min(size, len(data) - offset))
                    data[at] = rng.getrandbits(8)
        else:   # cut short
            del data[rng.randrange(len(data)):]
    return bytes(data)


class ElfFuzz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.originals = originals()
        cls.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-elf-fuzz-")
        # Bounded memory: a reader that believed a size field would fail here
        # with MemoryError instead of taking the machine's memory.
        cls.limit = resource.getrlimit(resource.RLIMIT_AS)
        hard = cls.limit[1]
        soft = 4 << 30 if hard == resource.RLIM_INFINITY else min(4 << 30, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    @classmethod
    def tearDownClass(cls):
        resource.setrlimit(resource.RLIMIT_AS, cls.limit)
        cls.tmp.cleanup()

    def test_the_originals_read(self):
        self.assertGreaterEqual(len(self.originals), 6)
        for data in self.originals:
            path = Path(self.tmp.name) / "original"
            path.write_bytes(data)
            self.assertTrue(elf.read_elf(path).needed)

    def test_mutants_end_cleanly(self):
        rng = random.Random(SEED)
        path = Path(self.tmp.name) / "mutant.so"
        outcomes = {"read": 0, "refused": 0}
        for case in range(CASES):
            path.write_bytes(mutate(rng, rng.choice(self.originals)))
            where = f"seed {SEED} case {case}"
            started = time.monotonic()
            try:
                elf.read_elf(path)
                outcomes["read"] += 1
            except UsageError as err:
                outcomes["refused"] += 1
                self.assertTrue(str(err).startswith(f"{path}: "), f"{where}: {err}")
                self.assertNotIn("\n", str(err), where)
            except Exception as err:   # noqa: BLE001 -- any other is the defect looked for
                self.fail(f"{where}: read_elf raised {type(err).__name__}: {err}")
            for check in (lambda: elf.dynamic_strings_contain(path, [b"libibverbs.so.1"]),
                          lambda: elf.has_debug_info(path), lambda: elf.is_elf(path)):
                try:
                    self.assertIsInstance(check(), bool, where)
                except Exception as err:   # noqa: BLE001
                    self.fail(f"{where}: raised {type(err).__name__}: {err}")
            self.assertLess(time.monotonic() - started, SECONDS_PER_CASE, f"{where}: too slow")
        # Both outcomes occur, or the mutations test nothing.
        self.assertGreater(outcomes["read"], CASES // 20, outcomes)
        self.assertGreater(outcomes["refused"], CASES // 20, outcomes)


if __name__ == "__main__":
    unittest.main()
