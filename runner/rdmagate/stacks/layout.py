"""Where a stack's files sit inside its tree, whatever the tree's layout."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from . import tree_safety

LIB_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib64", "lib64",
            "usr/lib", "lib")
LIBRARIES = {"libibverbs": "libibverbs.so.1", "librdmacm": "librdmacm.so.1",
             "libibumad": "libibumad.so.3"}
DEFAULT_PROVIDER_DIR = "usr/lib/x86_64-linux-gnu/libibverbs"
# The provider directory is compiled into libibverbs (rdma-core's
# VERBS_PROVIDER_DIR); reading it from the binary gives the one it uses.
_PROVIDER_DIR = re.compile(rb"(/[\w./+-]*/libibverbs)\0")
PROVIDER_FILE = re.compile(r"^lib(?P<name>[\w-]+?)-rdmav(?P<abi>\d+)\.so$")


def ldconfig_path(soname: str) -> Path | None:
    """Where this host's dynamic linker finds a soname (its ld.so.cache), as
    `ldconfig -p` reports it for x86-64."""
    tool = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        out = subprocess.run([tool, "-p"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" ")
        if name == soname and "x86-64" in rest and "=>" in rest:
            return Path(rest.split("=>", 1)[1].strip())
    return None


def find_library(root: Path, soname: str) -> Path | None:
    """The file a soname resolves to under root: for the host, where the
    dynamic linker finds it; for a tree, its first library directory."""
    if root == Path("/"):
        found = ldconfig_path(soname)
        if found and found.exists():
            return found
    for lib_dir in LIB_DIRS:
        candidate = root / lib_dir / soname
        if candidate.exists() or candidate.is_symlink():
            return tree_safety.regular_file(root, candidate)
    return None


def provider_dir(root: Path, libibverbs: Path) -> Path:
    """The providers directory libibverbs dlopens from, inside root."""
    compiled = _PROVIDER_DIR.search(libibverbs.read_bytes())
    relative = compiled.group(1).decode().lstrip("/") if compiled else DEFAULT_PROVIDER_DIR
    return root / relative


def real_file(path: Path, root: Path) -> str:
    """The real file behind a soname symlink, relative to root."""
    return os.path.relpath(path.resolve(), root.resolve())


def headers(root: Path) -> list[str]:
    include = root / "usr" / "include"
    found = []
    for sub in ("infiniband", "rdma"):
        found += sorted(str(p.relative_to(include)) for p in (include / sub).rglob("*.h"))
    return found


def runtime_libdir(fetched, in_own_root: bool) -> str:
    """Where a stack's libibverbs is found at run time: where the stack is
    the root's own /usr (the lab), the default; on this host, its tree (or
    the host's library)."""
    root = Path("/") if in_own_root or fetched.stack.kind == "host" else fetched.root
    found = find_library(root, LIBRARIES["libibverbs"]) if not in_own_root else None
    return str(found.parent) if found else "/usr/lib/x86_64-linux-gnu"
