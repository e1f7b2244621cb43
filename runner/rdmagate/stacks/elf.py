"""What a shared object exports and imports, read from its ELF dynamic
symbol table and GNU symbol versions, with the standard library only.

Stripped Debian libraries keep .dynsym and the version sections, which is
all an ABI at the symbol level is: name, version node, default or not."""
import functools
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import UsageError

SHT_DYNSYM, SHT_DYNAMIC, SHT_NOBITS = 11, 6, 8
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
DT_NEEDED, DT_SONAME = 1, 14
VER_FLG_BASE = 1
STB_GLOBAL, STB_WEAK = 1, 2
STT_OBJECT, STT_SECTION, STT_FILE, STT_TLS = 1, 3, 4, 6
SHN_ABS = 0xFFF1
EM_X86_64 = 62   # the machine of every stack rdmagate reads (amd64)
MACHINES = {3: "i386", 40: "arm", 62: "x86_64", 183: "aarch64", 243: "riscv", 21: "ppc64",
            22: "s390"}


@dataclass
class ElfInfo:
    path: Path
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    # (symbol, version node or None, default version?) of defined symbols
    exports: list[tuple[str, str | None, bool]] = field(default_factory=list)
    # (symbol, version or None, library that defines the version or None)
    imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    version_defs: list[str] = field(default_factory=list)
    version_needs: dict[str, list[str]] = field(default_factory=dict)
    # defined data symbols (STT_OBJECT, STT_TLS): libabigail's variables, which
    # [suppress_variable] names and [suppress_function] does not
    objects: set[str] = field(default_factory=set)


class _Reader:
    def __init__(self, path: Path, data: bytes):
        self.path, self.data = path, data
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise UsageError(f"{path}: not a 64-bit little-endian ELF file")
        (self.shoff,) = struct.unpack_from("<Q", data, 0x28)
        self.shentsize, self.shnum = struct.unpack_from("<HH", data, 0x3A)
        # ELF64 section headers are 64 bytes, all inside the file: a forged
        # count or size is refused before 65,535 of them are built.
        if self.shnum and (self.shentsize != 64 or self.shoff + 64 * self.shnum > len(data)):
            raise ValueError("section header table does not fit the file")
        self.sections = [self._section(i) for i in range(self.shnum)]
        # A section whose contents lie past the end of the file is malformed:
        # said at once, not after a walk of every entry a forged size claims.
        for sec in self.sections:
            if sec["type"] != SHT_NOBITS and sec["offset"] + sec["size"] > len(data):
                raise ValueError(f"a section (type {sec['type']:#x}) ends past the end of the file")

    def _section(self, index: int) -> dict:
        values = struct.unpack_from("<IIQQQQIIQQ", self.data, self.shoff + index * self.shentsize)
        keys = ("name", "type", "flags", "addr", "offset", "size", "link", "info", "align", "entsize")
        return dict(zip(keys, values))

    def by_type(self, sh_type: int) -> dict | None:
        return next((s for s in self.sections if s["type"] == sh_type), None)

    def string(self, strtab: dict, offset: int) -> str:
        start = strtab["offset"] + offset
        end = self.data.index(b"\0", start)
        return self.data[start:end].decode("utf-8", errors="replace")


def _version_defs(r: _Reader, info: ElfInfo) -> dict[int, str]:
    names: dict = {}
    sec = r.by_type(SHT_GNU_VERDEF)
    if not sec:
        return names
    strtab, at = r.sections[sec["link"]], sec["offset"]
    for _ in range(sec["info"]):
        _, flags, ndx, _, _, aux, nxt = struct.unpack_from("<HHHHIII", r.data, at)
        (name_off,) = struct.unpack_from("<I", r.data, at + aux)
        names[ndx] = r.string(strtab, name_off)
        if not flags & VER_FLG_BASE:  # the base entry is the soname itself
            info.version_defs.append(names[ndx])
        if not nxt:
            break
        at += nxt
    return names


def _version_needs(r: _Reader, info: ElfInfo) -> dict[int, tuple[str, str]]:
    needs: dict = {}
    sec = r.by_type(SHT_GNU_VERNEED)
    if not sec:
        return needs
    strtab, at = r.sections[sec["link"]], sec["offset"]
    for _ in range(sec["info"]):
        _, cnt, file_off, aux, nxt = struct.unpack_from("<HHIII", r.data, at)
        library = r.string(strtab, file_off)
        versions = info.version_needs.setdefault(library, [])
        aux_at = at + aux
        for _ in range(cnt):
            _, _, other, name_off, aux_next = struct.unpack_from("<IHHII", r.data, aux_at)
            version = r.string(strtab, name_off)
            versions.append(version)
            needs[other] = (version, library)
            if not aux_next:
                break
            aux_at += aux_next
        if not nxt:
            break
        at += nxt
    return needs


def _dynamic(r: _Reader, info: ElfInfo) -> None:
    sec = r.by_type(SHT_DYNAMIC)
    if not sec:
        return
    strtab = r.sections[sec["link"]]
    for at in range(sec["offset"], sec["offset"] + sec["size"], 16):
        tag, value = struct.unpack_from("<qQ", r.data, at)
        if tag == 0:
            break
        if tag == DT_NEEDED:
            info.needed.append(r.string(strtab, value))
        elif tag == DT_SONAME:
            info.soname = r.string(strtab, value)


def _symbols(r: _Reader, info: ElfInfo, defs: dict, needs: dict) -> None:
    sec = r.by_type(SHT_DYNSYM)
    if not sec:
        return
    strtab = r.sections[sec["link"]]
    versym = r.by_type(SHT_GNU_VERSYM)
    count = sec["size"] // 24
    for index in range(1, count):
        name_off, st_info, _, shndx, _, _ = struct.unpack_from("<IBBHQQ", r.data,
                                                                sec["offset"] + index * 24)
        bind, kind = st_info >> 4, st_info & 0xF
        if bind not in (STB_GLOBAL, STB_WEAK) or kind in (STT_SECTION, STT_FILE):
            continue
        name = r.string(strtab, name_off)
        if shndx == SHN_ABS and name in defs.values():
            continue  # the linker's marker for a version node, not an interface
        ver = struct.unpack_from("<H", r.data, versym["offset"] + index * 2)[0] if versym else 1
        ver_index, hidden = ver & 0x7FFF, bool(ver & 0x8000)
        if shndx != 0:
            info.exports.append((name, defs.get(ver_index), not hidden))
            if kind in (STT_OBJECT, STT_TLS):
                info.objects.add(name)
        else:
            version, library = needs.get(ver_index, (None, None))
            info.imports.append((name, version, library))


def _whole(path: Path) -> bytes:
    return files.read_bytes(path, "an ELF file", files.MAX_BINARY_BYTES)


def read_elf(path: Path) -> ElfInfo:
    """Soname, needed libraries, versioned exports and imports of one ELF file."""
    path = Path(path)
    data = _whole(path)
    info = ElfInfo(path)
    try:
        reader = _Reader(path, data)
        (machine,) = struct.unpack_from("<H", data, 0x12)
        if machine != EM_X86_64:
            # said from the header, before its tables are read or anything loads it
            raise UsageError(f"{path}: built for {machine_name(machine)}, not x86_64")
        _dynamic(reader, info)
        defs = _version_defs(reader, info)
        needs = _version_needs(reader, info)
        _symbols(reader, info, defs, needs)
    except (struct.error, ValueError, IndexError, OverflowError) as err:
        # OverflowError: an offset field past 2**63 (found by tests/unit/test_elf_fuzz.py)
        raise UsageError(f"{path}: malformed ELF file ({err})") from None
    return info


def machine_name(machine: int) -> str:
    return MACHINES.get(machine, f"machine {machine}")


def is_elf(path: Path) -> bool:
    """A regular file that starts as ELF does (never a FIFO's open or read)."""
    try:
        with files.open_regular(path, "an ELF file") as f:
            return f.read(4) == b"\x7fELF"
    except (UsageError, OSError):
        return False


def section(path: Path, name: str) -> bytes | None:
    """The bytes of one named section (.rodata: the strings a program really
    uses, not the source paths DWARF records); None when there is none."""
    try:
        reader = _Reader(Path(path), _whole(path))
        names = reader.sections[struct.unpack_from("<H", reader.data, 0x3E)[0]]
        for sec in reader.sections:
            if reader.string(names, sec["name"]) == name:
                return reader.data[sec["offset"]:sec["offset"] + sec["size"]]
    except (UsageError, OSError, struct.error, ValueError, IndexError):
        pass
    return None


def has_debug_info(path: Path) -> bool:
    """True when the file carries DWARF (.debug_info): a local build, not
    a stripped distribution library."""
    try:
        reader = _Reader(Path(path), _whole(path))
        names = reader.sections[struct.unpack_from("<H", reader.data, 0x3E)[0]]
        return any(reader.string(names, s["name"]) == ".debug_info" for s in reader.sections)
    except (UsageError, OSError, struct.error, ValueError, IndexError, OverflowError):
        return False


def _dynstr(f) -> bytes | None:
    """The string table SHT_DYNAMIC links to, read alone (any ELF class and
    byte order); b"" for a static file; None without section headers."""
    ident = f.read(64)
    wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
    if wide:
        (shoff,) = struct.unpack_from(order + "Q", ident, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", ident, 0x3A)
    else:
        (shoff,) = struct.unpack_from(order + "I", ident, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", ident, 0x2E)
    if not shoff or not shnum:
        return None
    # Sizes are checked against the file before anything is read: a forged
    # sh_size must not become a read of gigabytes (found by the fuzz test).
    size = os.fstat(f.fileno()).st_size
    if shoff + shentsize * shnum > size:
        raise ValueError("section headers past the end of the file")
    f.seek(shoff)
    table = f.read(shentsize * shnum)
    form = order + ("IIQQQQIIQQ" if wide else "IIIIIIIIII")
    # only each header's type is unpacked to find SHT_DYNAMIC (a host scan
    # reads thousands of files: this was its hot spot, bench/abi_diff.py)
    kinds = [struct.unpack_from(order + "I", table, i * shentsize + 4)[0] for i in range(shnum)]
    for index, kind in enumerate(kinds):
        link = struct.unpack_from(form, table, index * shentsize)[6] if kind == SHT_DYNAMIC else 0
        if kind == SHT_DYNAMIC and link < shnum:
            offset, length = struct.unpack_from(form, table, link * shentsize)[4:6]
            if offset + length > size:
                raise ValueError("dynamic strings past the end of the file")
            f.seek(offset)
            return f.read(length)
    return b""


def _scan(f, needles: list[bytes], chunk: int = 1 << 20) -> bool:
    """Every byte a chunk at a time, chunks overlapping by the longest needle."""
    f.seek(0)
    keep, tail = max(len(n) for n in needles), b""
    while block := f.read(chunk):
        window = tail + block
        if any(needle in window for needle in needles):
            return True
        tail = window[-keep:]
    return False


def dynamic_strings_contain(path: Path, needles: list[bytes]) -> bool:
    """Does the file's dynamic string table hold any of these names? Reads
    the section headers and .dynstr only; a file without section headers
    (the loader needs none) is searched whole, in bounded memory."""
    try:
        with files.open_regular(path, "an ELF file") as f:
            strings = _dynstr(f)
            if strings is None:
                return _scan(f, needles)
    except (UsageError, OSError):
        return False
    except (struct.error, IndexError, ValueError, OverflowError):
        # headers too broken to tell (an offset past 2**63 cannot even be
        # sought to): the full reader says what is wrong
        return True
    return _any_of(tuple(needles)).search(strings) is not None


@functools.lru_cache(maxsize=8)
def _any_of(needles: tuple[bytes, ...]) -> re.Pattern:
    """One search for every needle (a generator over them per file was slow)."""
    return re.compile(b"|".join(re.escape(n) for n in needles))
