"""What rdmagate opens in a stack's tree: regular files that stay inside it.

A prefix tree is whatever the user points at (an unpacked vendor OFED, a
local build). A libibverbs.so.1 there that links to the host's libc would be
inventoried as libibverbs with libc's symbols; a FIFO would hang the read, a
link to /dev/zero would fill memory. So every file of a tree is checked here
before any reader opens it, and refused with one line when it is anything
but a regular file, or a link to one, inside the tree."""
import os
import stat
from pathlib import Path

from .. import files
from ..errors import UsageError


def regular_file(root: Path, path: Path) -> Path:
    """path itself, once its real file is known to be a regular file inside
    root; UsageError naming the file and what it is otherwise."""
    root, path = Path(root), Path(path)
    if root == Path("/"):
        real_root = root   # the host's own stack: every file is in its tree
    else:
        real_root = _resolve(root, root)
    real = _resolve(path, root)
    if real_root != Path("/") and not real.is_relative_to(real_root):
        raise UsageError(f"{path}: links outside the stack's tree {root} (to {real}); "
                         "refused rather than read as part of the stack")
    try:
        mode = os.stat(real).st_mode
    except OSError as err:
        raise UsageError(f"{path}: cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path}: is {files.kind(mode)}, not a regular file; "
                         "refused rather than opened as part of the stack")
    return path


def directory(root: Path, path: Path) -> Path:
    """path itself, when it does not exist or its real directory is inside
    root (a provider directory compiled into a library could name /../..)."""
    root, path = Path(root), Path(path)
    if root == Path("/") or not path.exists():
        return path
    real = _resolve(path, root)
    if not real.is_relative_to(_resolve(root, root)):
        raise UsageError(f"{path}: links outside the stack's tree {root} (to {real}); "
                         "refused rather than read as part of the stack")
    return path


def _resolve(path: Path, root: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError) as err:   # RuntimeError: a loop of links (Python 3.11)
        detail = getattr(err, "strerror", None) or "a loop of symbolic links"
        raise UsageError(f"{path}: cannot be resolved in the stack's tree {root} "
                         f"({detail})") from None


def inside(root: Path, relative: Path, create: bool = True) -> Path:
    """The directory relative names in the tree root, with links read as a
    chroot reads them (an absolute target starts again at root, '..' stops at
    root), so the path returned has no link in it and is always inside root.
    Missing directories are made when create. UsageError on a loop of links or
    a component that is not a directory."""
    root = Path(root)
    parts, hops = list(Path(relative).parts), 0
    done: list[str] = []
    while parts:
        part = parts.pop(0)
        if part in ("", ".", "/"):
            continue
        if part == "..":
            done = done[:-1]
            continue
        here = root.joinpath(*done, part)
        if here.is_symlink():
            hops += 1
            if hops > 40:
                raise UsageError(f"{root / relative}: a loop of symbolic links in {root}")
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            parts = list(Path(target).parts) + parts
            continue
        if not here.exists() and create:
            here.mkdir()
        if not here.is_dir():
            raise UsageError(f"{root / relative}: {here} is not a directory in {root}")
        done.append(part)
    return root.joinpath(*done)
