"""Vendor package sets as stacks: debs:DIR (a directory of .deb files, as
vendor OFED distributions ship them) and rpms:DIR (.rpm files).

The packages are unpacked into the cache, never installed, by rdmagate's
own extractor (extract.py), which refuses a member written through a link
that leaves the tree: a .deb's files as dpkg-deb --fsys-tarfile streams
them, an .rpm's as bsdtar (libarchive reads the RPM payload) does.
The entry is keyed by the packages' contents, so a changed set never reuses
another's tree; the tree is then inventoried like a Debian stack's."""
import hashlib
import shutil
from pathlib import Path

from .. import tools
from ..files import open_regular
from ..errors import InfraError, UsageError
from ..paths import cache_dir
from .archive import unpack
from .lock import locked

KINDS = {"debs": ".deb", "rpms": ".rpm"}
# (tool, its Debian package) per kind: what reads the metadata
TOOLS = {"debs": ("dpkg-deb", "dpkg"), "rpms": ("rpm", "rpm")}
_RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"


def package_files(kind: str, directory: Path, name: str) -> list[Path]:
    """The set's package files; UsageError naming --stack when there are none."""
    if not directory.is_dir():
        raise UsageError(f"--stack {name}: {directory} is not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix == KINDS[kind] and p.is_file())
    if not files:
        raise UsageError(f"--stack {name}: no {KINDS[kind]} files in {directory}")
    return files


def _tool(kind: str) -> str:
    tool, package = TOOLS[kind]
    if shutil.which(tool) is None:
        raise InfraError(f"{tool} is not installed (Debian package {package}): run ci/setup")
    return tool


def metadata(kind: str, path: Path) -> tuple[str, str]:
    """(package name, version) of one .deb or .rpm; UsageError naming the file
    when it is not one."""
    if kind == "debs":
        fields = deb_fields(path, "Package", "Version")
        return fields["Package"], fields["Version"]
    argv = [_tool(kind), "-qp", "--nosignature", "--qf", _RPM_FORMAT, str(path)]
    done = tools.run(argv, tools.UNPACK)
    name, _, version = done.stdout.strip().partition("\t")
    found = (name, version)
    _readable(kind, path, done, all(found))
    return found


def deb_fields(path: Path, *wanted: str) -> dict:
    """Control fields of one .deb: wanted names Package and a field every
    package has (Version) first; UsageError naming the file if it is not one."""
    done = tools.run([_tool("debs"), "-f", str(path), *wanted], tools.UNPACK)
    fields = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    _readable("debs", path, done, bool(fields.get("Package") and fields.get(wanted[1])))
    return fields


def _readable(kind: str, path: Path, done, found: bool) -> None:
    if done.returncode != 0 or not found:
        detail = (done.stderr.strip().splitlines() or ["no package fields"])[-1]
        raise UsageError(f"{path}: not a readable {KINDS[kind]} package ({detail})")


def _key(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with open_regular(path, "a package") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def unpacked(kind: str, directory: Path, name: str, say=lambda text: None,
             cache: Path | None = None) -> Path:
    """The set's tree in the cache, unpacked once (atomically)."""
    files = package_files(kind, directory, name)
    entry = (cache or cache_dir()) / "stacks" / f"{kind}-{directory.name}" / _key(files)
    root = entry / "root"
    with locked(entry):
        if not root.is_dir():
            say(f"unpacking {len(files)} {KINDS[kind]} packages from {directory} into {root}")
            unpack(files, root)
    return root
