"""Consumer impact: would these binaries still load and resolve on stack B?

A consumer (an application, an MPI or UCX library, an out-of-tree provider)
imports symbol@version from libibverbs, librdmacm, libibumad, the
direct-verbs and management libraries, or a vendor's own library of the
stack. The dynamic
linker refuses to load it when a needed soname or version node is missing,
and fails at the first call when a symbol is missing from a node."""
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import files as input_files, tools
from ..errors import UsageError
from ..stacks import archive, elf, layout

# every public library of rdma-core: the direct-verbs and management ones too
RDMA_SONAMES = tuple(layout.LIBRARIES.values())
SCAN_DIRS = ("/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec", "/opt")


@dataclass
class Impact:
    consumer: str
    # ok, fails to load, fails to resolve, loads with changed signatures,
    # replaced by the upgrade, not checked
    verdict: str
    missing_libraries: list[str] = field(default_factory=list)
    missing_versions: list[str] = field(default_factory=list)
    missing_symbols: list[str] = field(default_factory=list)
    reason: str | None = None   # why it was not checked
    # imported functions whose signature changed under the same version
    changed_signatures: list[str] = field(default_factory=list)
    provider: bool = False      # a verbs provider (its audience), not an application

    def as_dict(self) -> dict:
        return asdict(self)


def target_exports(inventory: dict) -> dict[str, tuple[set, set, set]]:
    """soname -> (version nodes, symbol@version pairs, symbol names) of stack B."""
    out = {}
    for lib in inventory["libraries"].values():
        if not lib:
            continue
        pairs = set()
        for kind in ("public", "private"):
            pairs |= {(key.split("@", 1)[0], version) for key, version in lib["exports"][kind].items()}
        out[lib["soname"]] = (set(lib["public_versions"]) | set(lib["private_versions"]), pairs,
                              {symbol for symbol, _ in pairs})
    return out


def sonames(target: dict) -> set[str]:
    """The libraries a consumer is checked against: rdma-core's, and every
    other library of stack B (a vendor's own that links libibverbs)."""
    return set(RDMA_SONAMES) | set(target)


def check(info: elf.ElfInfo, target: dict, label: str,
          changed: dict[str, str] | None = None) -> Impact | None:
    """The impact on one ELF file; None when it uses no RDMA library.
    changed: symbol -> version of functions whose signature changed while
    their version stayed (the loader binds them; the call is wrong)."""
    rdma = sonames(target)
    needed = [n for n in info.needed if n in rdma]
    versioned = {lib: v for lib, v in info.version_needs.items() if lib in rdma}
    if not needed and not versioned:
        return None
    impact = Impact(label, "ok", provider=is_provider(info))
    impact.missing_libraries = sorted(n for n in needed if n not in target)
    for library, versions in versioned.items():
        nodes = target.get(library, (set(), set(), set()))[0]
        impact.missing_versions += sorted(f"{v} ({library})" for v in versions if v not in nodes)
    rdma_imports = [(s, v, lib) for s, v, lib in info.imports if lib in rdma or
                    (lib is None and needed)]
    for symbol, version, soname in rdma_imports:
        if soname in target:
            nodes, pairs, names = target[soname]
            if version in nodes and (symbol, version) not in pairs:
                impact.missing_symbols.append(f"{symbol}@{version}")
        if changed and symbol in changed and changed[symbol] in ("", version):
            impact.changed_signatures.append(f"{symbol}@{version}")
    if impact.missing_libraries or impact.missing_versions:
        impact.verdict = "fails to load"
    elif impact.missing_symbols:
        impact.verdict = "fails to resolve"
    elif impact.changed_signatures:
        impact.verdict = "loads with changed signatures"
    return impact


NOT_CHECKED = "not checked"
# what a provider calls to register itself: verbs_register_driver_NN (rdma-core),
# ibv_register_driver (legacy libibverbs)
_REGISTERS = ("verbs_register_driver", "ibv_register_driver")


def is_provider(info: elf.ElfInfo) -> bool:
    """A verbs provider: named as libibverbs opens one (lib<name>-rdmav<NN>.so),
    or a library that registers a verbs driver."""
    return bool(layout.PROVIDER_FILE.match(info.path.name)) or \
        any(symbol.startswith(_REGISTERS) for symbol, _, _ in info.imports)


def _walk(top: str):
    """(path, is a symlink) of every file under top, symlinks to files too,
    from the directory entries alone (no stat of each of the host's files)."""
    stack = [top]
    while stack:
        try:
            entries = sorted(os.scandir(stack.pop()), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.is_symlink():
                yield entry.path, True
            elif entry.is_file(follow_symlinks=False):
                yield entry.path, False


def _elf_files(path: Path, package: bool = False):
    """(file, None) for each ELF file to read, once; (file, why) for one that
    was named but cannot be checked. In a directory, files that are not ELF
    at all (scripts, data) are not consumers; a file named alone is one. A
    symlink counts (providers are symlinks to libX.so.1.*), under its own
    name unless its target is scanned too. In an unpacked package, a link
    read as the package would be installed names one of its own files
    (scanned as that file) or a file it does not ship: links are never
    followed, so nothing outside the package is read as its own."""
    if not path.is_dir():
        if not path.is_file():
            # never opened: a FIFO would hang the read, a device never end
            yield path, "not a regular file"
        elif not elf.is_elf(path):
            yield path, "not an ELF file"
        else:
            yield path, None
        return
    files, links = set(), []
    for item, is_link in _walk(str(path)):
        if not (is_link and package):
            (links.append(item) if is_link else files.add(item))
    chosen, targets = set(files), set()
    for link in sorted(links):
        target = os.readlink(link)
        if "/" not in target and os.path.join(os.path.dirname(link), target) in files:
            continue      # libfoo.so -> libfoo.so.1.2 beside it: scanned as that file
        real = os.path.realpath(link)
        if real in files or real in targets or not os.path.isfile(real):
            continue
        targets.add(real)
        chosen.add(link)
    for item in sorted(chosen):
        if elf.is_elf(Path(item)):
            yield Path(item), None


def _needles(target: dict) -> list[bytes]:
    return [s.encode() for s in sorted(sonames(target))]


def _mentions_rdma(path: Path, needles: list[bytes] | None = None) -> bool:
    """Cheap test before parsing: the file's dynamic strings name an RDMA
    soname, or another of the target's (needles; reading whole files made
    the host scan hold gigabytes)."""
    return elf.dynamic_strings_contain(path, needles or _needles({}))


def _check_tree(root: Path, target: dict, label_root: str,
                changed: dict[str, str] | None = None, package: bool = False) -> list[Impact]:
    impacts, needles = [], _needles(target)
    for item, why in _elf_files(root, package):
        label = f"{label_root}{item.relative_to(root) if root.is_dir() else item.name}"
        if why:
            impacts.append(Impact(label, NOT_CHECKED, reason=why))
            continue
        if not _mentions_rdma(item, needles):
            continue
        try:
            info = elf.read_elf(item)
        except UsageError as err:
            # a broken ELF file is not known to be safe: said, never dropped
            impacts.append(Impact(label, NOT_CHECKED, reason=str(err).removeprefix(f"{item}: ")))
            continue
        found = check(info, target, label, changed)
        if found:
            impacts.append(found)
    return impacts


def replaced_by_upgrade(target_inventory: dict) -> set[str]:
    """Host files that the upgrade itself replaces: those of the installed
    packages the target stack ships too (librdmacm1 is librdmacm1t64 from 56.1
    on). rdma-core's own tools and providers are bound to the old private ABI
    and must not count as consumers that break."""
    names = set(target_inventory.get("tools") or {})
    names |= {n.removesuffix("t64") for n in names}
    if not names or shutil.which("dpkg-query") is None:
        return set()
    done = tools.run(["dpkg-query", "-L", *sorted(names)], tools.QUICK)
    return {str(Path(line).resolve()) for line in done.stdout.splitlines() if line.startswith("/")}


def _host_scan(target: dict, target_inventory: dict, changed: dict | None) -> list[Impact]:
    replaced = replaced_by_upgrade(target_inventory)
    impacts = [i for d in SCAN_DIRS if Path(d).is_dir()
               for i in _check_tree(Path(d), target, f"{d}/", changed)]
    for impact in impacts:
        if str(Path(impact.consumer).resolve()) in replaced:
            impact.verdict = "replaced by the upgrade"
    return impacts


def analyze(consumers: list[str], target_inventory: dict,
            changed: dict[str, str] | None = None) -> list[Impact]:
    """Impacts of files, directories and .deb packages; none given: the host's
    binaries that link the RDMA libraries. changed: as check() takes it."""
    target = target_exports(target_inventory)
    if not consumers:
        return _host_scan(target, target_inventory, changed)
    impacts = []
    for consumer in consumers:
        path = Path(consumer)
        if not path.exists():
            raise UsageError(f"--consumers {consumer}: no such file or directory")
        if path.suffix == ".deb" and path.exists():
            input_files.check_regular(path, "a Debian package")   # dpkg-deb would wait on a FIFO
            with tempfile.TemporaryDirectory(prefix="rdmagate-consumer-") as tmp:
                try:
                    root = archive.unpack([path], Path(tmp) / "package")
                except UsageError as err:
                    raise UsageError(f"--consumers {err}") from None
                impacts += _check_tree(root, target, f"{path.name}:/", changed, package=True)
        elif path.is_dir():
            impacts += _check_tree(path, target, f"{path}/", changed)
        else:
            impacts += _check_tree(path, target, "", changed)
    return impacts
