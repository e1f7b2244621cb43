"""Out-of-tree kernel modules read as the kernel reads them: the ELF header,
.modinfo, __versions (8-byte CRC + 56-byte name per import), the size of
.gnu.linkonce.this_module (the module's struct module) and the undefined
symbols of .symtab in table order (the order the kernel resolves them)."""
import shutil
import struct
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import UsageError
from ..stacks import archive
from ..stacks.elf import EM_X86_64, _Reader, machine_name

ET_REL, SHT_SYMTAB, STB_WEAK = 1, 2, 2


@dataclass
class Module:
    path: Path
    name: str
    vermagic: str
    license: str
    this_module_size: int
    versions: dict[str, int]             # import -> CRC the module was built against
    undefined: list[str]                 # in .symtab order
    weak: set[str] = field(default_factory=set)   # undefined weak: may stay unresolved
    signed: bool = False                 # a module signature is appended
    import_ns: list[str] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    srcversion: str = ""

    @property
    def gpl_compatible(self) -> bool:
        # kernel/module/main.c license_is_gpl_compatible()
        return self.license in ("GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                                "Dual MIT/GPL", "Dual MPL/GPL")


def _named(reader: _Reader) -> dict[str, dict]:
    (shstrndx,) = struct.unpack_from("<H", reader.data, 0x3E)
    names = reader.sections[shstrndx]
    return {reader.string(names, s["name"]): s for s in reader.sections}


def _bytes(reader: _Reader, section: dict | None) -> bytes:
    if section is None:
        return b""
    end = section["offset"] + section["size"]
    if end > len(reader.data):
        raise ValueError(f"section at {section['offset']} runs past the end of the file")
    return reader.data[section["offset"]:end]


def parse(path: Path, data: bytes) -> Module:
    if data[:4] != b"\x7fELF":
        raise UsageError(f"{path}: not a kernel module (no ELF header)")
    try:
        reader = _Reader(path, data)
        e_type, e_machine = struct.unpack_from("<HH", data, 0x10)
        if e_machine != EM_X86_64:
            raise UsageError(f"{path}: a module for {machine_name(e_machine)}, "
                             "not x86_64: e_machine does not match the kernels compared")
        sections = _named(reader)
        if e_type != ET_REL or ".gnu.linkonce.this_module" not in sections:
            raise UsageError(f"{path}: not a kernel module (no .gnu.linkonce.this_module "
                             "section in a relocatable object)")
        info: dict[str, list[str]] = {}
        for item in _bytes(reader, sections.get(".modinfo")).split(b"\0"):
            if b"=" in item:
                key, value = item.decode(errors="replace").split("=", 1)
                info.setdefault(key, []).append(value)
        raw = _bytes(reader, sections.get("__versions"))
        versions = {raw[at + 8:at + 64].split(b"\0", 1)[0].decode(errors="replace"):
                    struct.unpack_from("<Q", raw, at)[0] for at in range(0, len(raw) - 63, 64)}
        undefined, weak = _undefined(reader)
    except (struct.error, ValueError, IndexError) as err:
        raise UsageError(f"{path}: truncated or malformed module ({err})") from None

    def one(key: str) -> str:
        return info.get(key, [""])[0]
    name = one("name") or path.name.split(".", 1)[0].replace("-", "_")
    return Module(path, name, one("vermagic"), one("license"),
                  sections[".gnu.linkonce.this_module"]["size"], versions, undefined,
                  weak=weak, signed=data.endswith(b"~Module signature appended~\n"),
                  import_ns=info.get("import_ns", []),
                  depends=[d for d in one("depends").split(",") if d],
                  srcversion=one("srcversion"))


def _undefined(reader: _Reader) -> tuple[list[str], set[str]]:
    symtab = reader.by_type(SHT_SYMTAB)
    if symtab is None:
        return [], set()
    strtab = reader.sections[symtab["link"]]
    _bytes(reader, symtab)
    out, weak = [], set()
    for at in range(symtab["offset"] + 24, symtab["offset"] + symtab["size"], 24):
        name_off, st_info, _, shndx = struct.unpack_from("<IBBH", reader.data, at)
        if shndx == 0 and name_off:
            out.append(reader.string(strtab, name_off))
            if st_info >> 4 == STB_WEAK:
                weak.add(out[-1])
    return out, weak


def read(path: Path) -> Module:
    path = Path(path)
    return parse(path, read_plain(path))


def read_plain(path: Path) -> bytes:
    """The module's bytes, decompressed when it is .ko.xz or .ko.zst, never
    past files.MAX_BINARY_BYTES (a small .ko.xz can expand to gigabytes)."""
    return files.read_unpacked(path, "a kernel module", files.MAX_BINARY_BYTES)


KO_SUFFIXES = (".ko", ".ko.xz", ".ko.zst")


@contextmanager
def gathered(paths: list[str]):
    """The modules named by paths (.ko files, directories searched for them,
    .deb packages unpacked into a temporary directory removed afterwards)."""
    scratch = None
    try:
        found = []
        for given in paths:
            path = Path(given)
            if path.is_dir():
                hits = sorted(p for p in path.rglob("*") if p.name.endswith(KO_SUFFIXES))
                if not hits:
                    raise UsageError(f"--modules {path}: no .ko files in this directory")
                found += hits
            elif path.name.endswith(".deb") and path.is_file():
                scratch = scratch or Path(tempfile.mkdtemp(prefix="rdmagate-kabi-"))
                try:
                    dest = archive.unpack([path], scratch / str(len(found)))
                except UsageError as err:
                    raise UsageError(f"--modules {err}") from None
                # the package's own files: a link is never followed out of it
                hits = sorted(p for p in dest.rglob("*") if p.name.endswith(KO_SUFFIXES)
                              and not p.is_symlink() and p.is_file())
                if not hits:
                    raise UsageError(f"--modules {path}: the package has no kernel modules")
                found += hits
            elif path.exists():   # read() refuses what is not a regular file
                found.append(path)
            else:
                raise UsageError(f"--modules {path}: no such file or directory")
        yield [read(p) for p in found]
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
