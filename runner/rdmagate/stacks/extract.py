"""Package file systems laid into a root by rdmagate itself, member by member.

A package set is the user's input: one package may ship usr/evil -> /outside
and the next usr/evil/pwned, and dpkg-deb -x or bsdtar would follow the link
and write outside the cache, as root. So each package's file system is read
as one tar stream (dpkg-deb --fsys-tarfile; bsdtar for an RPM's payload) and
every member is written here, once its directory, resolved against what is
already on disk (links of earlier packages and of earlier members of the
same stream), is known to lie inside the root:

- a member name that is absolute or has a '..' component is refused;
- links may point anywhere (they are data), but nothing is written through
  a link that leaves the root; links inside it are followed, as dpkg would;
- a hard link must name a regular file already unpacked inside the root;
- a file or link replaces what stands at its path (an earlier package's
  file or link, never written through); a name twice in one stream, or a
  file where a directory stands, is refused;
- device nodes and FIFOs are not created: a stack's tree needs none, and
  reading one would hang or never end;
- permission bits are kept without setuid and setgid (an unpacked file must
  not grant root to anyone); files belong to the caller.

A refusal is UsageError naming the stream (its label: the package file) and
the member. Tree.add takes any tar stream; a caller with its own member
rules (a container layer's whiteouts) overrides Tree.place and uses
Tree.directory to find, inside the root, where a member's path leads."""
import lzma
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

from ..errors import InfraError, UsageError

MAX_LINKS = 40           # links followed in one path, as the kernel allows
KEPT_BITS = 0o1777       # permission bits written: never setuid or setgid
# the tool that writes each kind of package's file system as a tar stream
TOOLS = {"dpkg-deb": "dpkg", "bsdtar": "libarchive-tools"}


def stream_argv(package: Path) -> list[str]:
    """The argv that writes a package's file system to stdout as a tar stream."""
    package = Path(package).absolute()   # '@-' would make bsdtar read stdin
    if package.name.endswith(".rpm"):
        # libarchive reads the RPM's cpio payload and writes it again as pax
        return ["bsdtar", "-c", "-f", "-", "--format", "pax", f"@{package}"]
    return ["dpkg-deb", "--fsys-tarfile", "--", str(package)]


def add_package(tree: "Tree", package: Path) -> None:
    """One .deb or .rpm laid into tree; UsageError naming the package when
    its tool cannot read it or a member is refused."""
    argv = stream_argv(package)
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors)
        except FileNotFoundError:
            raise InfraError(f"{argv[0]} is not installed (Debian package "
                             f"{TOOLS[argv[0]]}): run ci/setup") from None
        with proc:
            assert proc.stdout is not None   # stdout=PIPE
            try:
                tree.add(proc.stdout, str(package))
                # the blocks after the end-of-archive marker: read, so the
                # tool ends by itself and its status says if all went well
                while proc.stdout.read(1 << 16):
                    pass
            except BaseException as err:
                proc.kill()
                # a tool that had already failed explains an unreadable stream
                if not (isinstance(err, UsageError) and proc.wait() > 0):
                    raise
        if proc.returncode != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise UsageError(f"{package}: not a readable package "
                             f"({lines[-1] if lines else f'{argv[0]} exit {proc.returncode}'})")


def _set_time(path: Path, mtime) -> None:
    """The member's time, when the system can hold it (a forged one is not
    worth refusing the package for)."""
    try:
        os.utime(path, (mtime, mtime), follow_symlinks=False)
    except (OverflowError, ValueError):
        pass


def _shown(name: str) -> str:
    return name if name.isprintable() else repr(name)


class Tree:
    """A root being unpacked into: add() each stream, then finish()."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._real: dict[tuple[str, ...], Path] = {(): self.root}   # directory parts -> its path inside root, no link in it
        self._modes: dict[Path, tuple[int, float]] = {}   # directory -> (mode, mtime), set by finish()

    def add(self, stream, label: str) -> None:
        """Every member of one tar stream (plain or compressed) laid into the
        root. label names the stream in messages."""
        seen: set[tuple[str, ...]] = set()
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    self.place(tar, member, label, seen)
        except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as err:
            raise UsageError(f"{label}: not a readable archive ({err})") from None

    def finish(self) -> None:
        """Directory modes and times, once nothing more is written in them."""
        for path, (mode, mtime) in self._modes.items():
            os.chmod(path, mode & KEPT_BITS)
            _set_time(path, mtime)

    def place(self, tar: tarfile.TarFile, member: tarfile.TarInfo, label: str,
              seen: set) -> None:
        """One member written (or skipped, or refused); seen: the names of
        the stream's members so far."""
        parts = self.parts(member.name, label, member.name)
        if not parts:
            return   # the archive's own root entry, './'
        if member.isdir():
            path = self.directory(parts, label, member.name)
            if not os.path.islink(self.directory(parts[:-1], label, member.name) / parts[-1]):
                self._modes[path] = (member.mode, member.mtime)
            return
        if parts in seen:
            self.refuse(label, member.name, "appears twice in the archive")
        seen.add(parts)
        if not (member.isreg() or member.issym() or member.islnk()):
            return   # device nodes and FIFOs: never created
        path = self.directory(parts[:-1], label, member.name) / parts[-1]
        try:
            self._clear(path, label, member.name)
            if member.issym():
                if "\0" in member.linkname:
                    self.refuse(label, member.name, "its link target has a NUL byte")
                os.symlink(member.linkname, path)
            elif member.islnk():
                os.link(self._hard_target(member, label), path, follow_symlinks=False)
            else:
                self._file(tar, member, path)
            _set_time(path, member.mtime)
        except OSError as err:
            raise InfraError(f"{label}: member {_shown(member.name)}: cannot be written to "
                             f"{path} ({err.strerror})") from None

    @staticmethod
    def refuse(label: str, name: str, why: str):
        raise UsageError(f"{label}: member {_shown(name)}: {why}; refused, nothing unpacked")

    def parts(self, name: str, label: str, member: str) -> tuple[str, ...]:
        """A member's name (or a hard link's target) as path components."""
        what = "its name" if name == member else f"its hard link target {_shown(name)}"
        if "\0" in name:
            self.refuse(label, member, f"{what} has a NUL byte")
        if name.startswith("/"):
            self.refuse(label, member, f"{what} is an absolute path")
        parts = tuple(p for p in name.split("/") if p not in ("", "."))
        if ".." in parts:
            self.refuse(label, member, f"{what} climbs out with '..'")
        return parts

    def directory(self, parts: tuple[str, ...], label: str, member: str,
                  create: bool = True) -> Path:
        """The directory parts names inside the root, links read as the
        kernel reads them, missing directories made when create; refused
        when a link leads out of the root or a part is not a directory."""
        if parts in self._real:
            return self._real[parts]
        todo, done, hops = list(parts), list[str](), 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    self.refuse(label, member, f"{'/'.join(parts)} leads out of the root "
                                "through a link")
                done.pop()
                continue
            here = self.root.joinpath(*done, part)
            try:
                mode = os.lstat(here).st_mode
            except FileNotFoundError:
                if not create:
                    self.refuse(label, member, f"{'/'.join(parts)} is not in the archive "
                                "before it")
                os.mkdir(here, 0o755)
                mode = stat.S_IFDIR
            if stat.S_ISLNK(mode):
                hops += 1
                target = os.readlink(here)
                if hops > MAX_LINKS:
                    self.refuse(label, member, f"{'/'.join(parts)} is a loop of links")
                if target.startswith("/"):
                    self.refuse(label, member, f"{'/'.join([*done, part])} links to "
                                f"{_shown(target)}, outside the root")
                todo = target.split("/") + todo
                continue
            if not stat.S_ISDIR(mode):
                self.refuse(label, member, f"{'/'.join([*done, part])} is not a directory")
            done.append(part)
        self._real[parts] = self.root.joinpath(*done)
        return self._real[parts]

    def _clear(self, path: Path, label: str, member: str) -> None:
        """Whatever an earlier package put at path removed (a file or link
        is replaced, never written through); a directory is refused."""
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISDIR(mode):
            self.refuse(label, member, "an earlier member made it a directory")
        os.unlink(path)
        if stat.S_ISLNK(mode):
            self._real = {(): self.root}   # that link may have led to a directory

    def _hard_target(self, member: tarfile.TarInfo, label: str) -> Path:
        parts = self.parts(member.linkname, label, member.name)
        if not parts:
            self.refuse(label, member.name, "a hard link to the root")
        target = self.directory(parts[:-1], label, member.name, create=False) / parts[-1]
        try:
            regular = stat.S_ISREG(os.lstat(target).st_mode)
        except FileNotFoundError:
            regular = False
        if not regular:
            self.refuse(label, member.name, f"a hard link to {_shown(member.linkname)}, "
                        "which is not a file unpacked before it")
        return target

    @staticmethod
    def _file(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
        source = tar.extractfile(member)
        assert source is not None   # called for a regular file only
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
            os.fchmod(out.fileno(), member.mode & KEPT_BITS & 0o777)
