"""Archive members written into a root, never through a link that leaves it.

A package set or an image can ship a link (usr/evil -> /outside) and then a
file through it, from a later package or layer, or from a later member of the
same archive. So every member is written here, one by one: its name may not
climb out of the root, each directory on its way is resolved against what is
already written and must stay inside the root, and the member's own name is
replaced, never written through. Refusals are the input's fault (exit 2) and
name the archive and the member."""
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

MAX_BYTES = 32 << 30        # what one tree may hold, all its archives together
MAX_MEMBERS = 2_000_000
CHUNK = 1 << 20


@dataclass
class Budget:
    """What a tree may still take, shared by the archives laid into it."""
    bytes_left: int = MAX_BYTES
    members_left: int = MAX_MEMBERS


def member_name(label: str, name: str) -> str:
    """A member's path relative to the root; UsageError when it is absolute
    or climbs out with '..'."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        raise UsageError(f"{label}: member {name!r} climbs out of the root; refused")
    return "/".join(parts)


class Writer:
    """Writes tar members into root (which must exist)."""

    def __init__(self, root: Path, label: str, budget: Budget | None = None):
        self.root = Path(os.path.realpath(root))
        self.label = label
        self.budget = budget or Budget()

    def _refuse(self, name: str, why: str):
        raise UsageError(f"{self.label}: member {name}: {why}; refused, nothing of it written")

    def directory(self, relative: str, for_member: str | None = None) -> Path:
        """The real directory relative names in the root, made where missing;
        each link on the way must resolve inside the root."""
        here = self.root
        for part in [p for p in relative.split("/") if p]:
            step = here / part
            if step.is_symlink():
                real = Path(os.path.realpath(step))
                if real != self.root and not real.is_relative_to(self.root):
                    self._refuse(for_member or relative, f"{step.relative_to(self.root)} "
                                 f"links to {os.readlink(step)}, outside the root")
                step = real
            if not step.exists():
                step.mkdir(mode=0o755)
            elif not step.is_dir():
                self._refuse(for_member or relative,
                             f"{step.relative_to(self.root)} is not a directory")
            here = step
        return here

    def _clear(self, path: Path, keep_directory: bool) -> None:
        """Make room for a member: what stands at its name is replaced (a link
        is removed, never followed)."""
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
        elif path.is_dir() and not keep_directory:
            shutil.rmtree(path)

    def _spend(self, name: str, size: int) -> None:
        self.budget.members_left -= 1
        self.budget.bytes_left -= size
        if self.budget.members_left < 0 or self.budget.bytes_left < 0:
            self._refuse(name, f"the tree would exceed {MAX_MEMBERS} files or "
                         f"{MAX_BYTES >> 30} GiB")

    def write(self, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
        name = member_name(self.label, member.name)
        if not name:
            return                      # the root itself
        self._spend(name, member.size if member.isfile() else 0)
        parent_name, _, base = name.rpartition("/")
        target = self.directory(parent_name, name) / base
        mode = member.mode & 0o777      # never a set-id bit written as root
        if member.isdir():
            self._clear(target, keep_directory=True)
            target.mkdir(mode=0o755, exist_ok=True)
            os.chmod(target, mode | 0o700)
        elif member.issym():
            self._clear(target, keep_directory=False)
            os.symlink(member.linkname, target)
        elif member.islnk():
            source = self._existing(name, member_name(self.label, member.linkname))
            self._clear(target, keep_directory=False)
            os.link(source, target)
        elif member.isfile():
            self._clear(target, keep_directory=False)
            self._copy(tar.extractfile(member), target, mode, member.size, name)
        # device nodes and FIFOs are not made: no stack is read through one

    def _existing(self, name: str, link: str) -> Path:
        """The file a hard link names: already written, regular, inside."""
        parent, _, base = link.rpartition("/")
        source = self.directory(parent, name) / base
        if source.is_symlink() or not source.is_file():
            self._refuse(name, f"a hard link to {link}, which is not a regular file written "
                         "before it")
        return source

    def _copy(self, stream, target: Path, mode: int, size: int, name: str) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            left = size
            while left > 0:
                data = stream.read(min(CHUNK, left))
                if not data:
                    self._refuse(name, "the archive ends inside it")
                out.write(data)
                left -= len(data)
        os.chmod(target, mode)
