"""Where a stack's files sit inside its tree, whatever the tree's layout.

Real installs produce several layouts: a system or unpacked-package tree
(usr/lib/<multiarch> or usr/lib64, usr/include, etc/libibverbs.d), a tree
that is itself the install prefix (lib/, include/, etc/), the DESTDIR root
of an /opt prefix (opt/X/lib, opt/X/include, and its configuration in
etc/opt/X: GNUInstallDirs puts an /opt prefix's sysconfdir there), the
DESTDIR root of cmake's default prefix /usr/local (usr/local/lib, its
configuration in usr/local/etc), and a
vendor package set unpacked one package per directory. detect() says which
one a tree is; the providers and configuration directories come from the
strings libibverbs really compiles in, mapped into the tree."""
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .. import tools
from ..errors import InfraError
from . import elf, tree_safety

MULTIARCH = "x86_64-linux-gnu"
LIB_SUFFIXES = (f"lib/{MULTIARCH}", "lib64", "lib")
LIB_DIRS = tuple(f"{base}{s}" for base in ("usr/", "") for s in LIB_SUFFIXES)
# Every public library rdma-core ships (name -> soname): the core three,
# the direct-verbs libraries of the providers, the management libraries.
LIBRARIES = {"libibverbs": "libibverbs.so.1", "librdmacm": "librdmacm.so.1",
             "libibumad": "libibumad.so.3", "libmlx5": "libmlx5.so.1",
             "libmlx4": "libmlx4.so.1", "libefa": "libefa.so.1", "libhns": "libhns.so.1",
             "libmana": "libmana.so.1", "libionic": "libionic.so.1",
             "libibmad": "libibmad.so.5", "libibnetdisc": "libibnetdisc.so.5"}
CORE = ("libibverbs", "librdmacm", "libibumad")     # listed as absent when missing
# The fabric management libraries and their public headers: what links them
# is diagnostics and subnet tools (infiniband-diags, opensm), not verbs
# applications
MANAGEMENT = {"libibmad": "infiniband/mad.h", "libibnetdisc": "infiniband/ibnetdisc.h"}
DEFAULT_PROVIDER_DIR = f"usr/lib/{MULTIARCH}/libibverbs"
# rdma-core's load_driver() formats VERBS_PROVIDER_DIR "/lib%s-rdmavNN.so":
# the directory is what precedes that suffix in libibverbs' read-only data
# (a source path in DWARF, .../libibverbs, is never it).
_PROVIDER_DIR = re.compile(rb"\0(/[^\0%]*)/lib%s-rdmav(\d+)\.so\0")
_BARE_PROVIDER_FILE = re.compile(rb"\0lib%s-rdmav(\d+)\.so\0")
_CONFIG_DIR = re.compile(rb"\0(/[^\0%]*/libibverbs\.d)\0")
PROVIDER_FILE = re.compile(r"^lib(?P<name>[\w-]+?)-rdmav(?P<abi>\d+)\.so$")


@dataclass
class Layout:
    kind: str                       # what detect() recognised, for `stacks show`
    roots: list[Path]               # one, or one per package of a package set
    lib_dirs: list[Path]
    include_dirs: list[Path] = field(default_factory=list)
    config_dirs: list[Path] = field(default_factory=list)   # those that exist
    provider_dir: Path | None = None
    compiled_provider_dir: str | None = None     # as libibverbs has it
    compiled_config_dir: str | None = None
    problems: list[str] = field(default_factory=list)
    tree: Path = Path("/")          # the tree detect() was given: nothing read leaves it

    def find(self, soname: str) -> Path | None:
        """The library file of soname, once known to be a regular file of the
        tree (a link to the host's libc would be read as the stack's)."""
        candidate = next((d / soname for d in self.lib_dirs
                          if (d / soname).exists() or (d / soname).is_symlink()), None)
        return tree_safety.regular_file(self.tree, candidate) if candidate else None

    @property
    def include_dir(self) -> Path | None:
        return self.include_dirs[0] if self.include_dirs else None


def ldconfig_path(soname: str) -> Path | None:
    """Where this host's dynamic linker finds a soname (its ld.so.cache), as
    `ldconfig -p` reports it for x86-64."""
    tool = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        out = tools.run([tool, "-p"], tools.QUICK).stdout
    except InfraError:
        return None
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" ")
        if name == soname and "x86-64" in rest and "=>" in rest:
            return Path(rest.split("=>", 1)[1].strip())
    return None


def _lib_dirs(base: Path) -> list[Path]:
    return [base / s for s in LIB_SUFFIXES if (base / s).is_dir()]


def _install_bases(root: Path) -> list[tuple[str, Path]]:
    """(layout kind, install base) candidates of one tree, most usual first."""
    # /usr/local: cmake's default prefix, so the usual DESTDIR of a source build
    found = [("/usr", root / "usr"), ("prefix", root),
             ("DESTDIR root of /usr/local", root / "usr" / "local")]
    for opt in sorted((root / "opt").glob("*")) + sorted((root / "opt").glob("*/*")):
        if opt.is_dir() and _lib_dirs(opt):
            found.append((f"DESTDIR root of /{opt.relative_to(root)}", opt))
    return found


def _locate(root: Path) -> tuple[str, list[Path], list[Path]] | None:
    """(kind, package roots, install bases) of the tree whose lib dirs hold libibverbs."""
    for kind, base in _install_bases(root):
        if any((d / LIBRARIES["libibverbs"]).exists() for d in _lib_dirs(base)):
            if kind == "/usr":
                lib = next(d for d in _lib_dirs(base) if (d / LIBRARIES["libibverbs"]).exists())
                kind = f"/usr ({'multiarch' if lib.name == MULTIARCH else lib.name})"
            return kind, [root], [base]
    # a package set: each package unpacked into its own directory
    packages = [p for p in sorted(root.iterdir()) if p.is_dir() and (p / "usr").is_dir()] \
        if root.is_dir() else []
    if any(_lib_dirs(p / "usr") and any((d / LIBRARIES["libibverbs"]).exists()
                                        for d in _lib_dirs(p / "usr")) for p in packages):
        return f"package set ({len(packages)} packages)", packages, [p / "usr" for p in packages]
    return None


def _compiled(libibverbs: Path) -> tuple[str | None, str | None]:
    """(provider directory, configuration directory) compiled into libibverbs."""
    data = elf.section(libibverbs, ".rodata")
    data = b"\0" + (data if data is not None else libibverbs.read_bytes())
    provider, config = _PROVIDER_DIR.search(data), _CONFIG_DIR.search(data)
    return (provider.group(1).decode(errors="replace") if provider else None,
            config.group(1).decode(errors="replace") if config else None)


def _map(compiled: str, roots: list[Path], prefix: str | None) -> list[Path]:
    """Where an absolute path libibverbs was built with is inside the tree:
    under a root as if it were /, or under the tree as the install prefix."""
    relative = compiled.lstrip("/")
    out = [r / relative for r in roots]
    if prefix and (compiled + "/").startswith(prefix + "/"):
        out += [r / compiled[len(prefix):].lstrip("/") for r in roots]
    return out


def _prefix(compiled_provider_dir: str, roots: list[Path]) -> str | None:
    """The install prefix the tree stands for, when the tree is the prefix
    itself (/opt/x/lib/libibverbs found as TREE/lib/libibverbs: /opt/x)."""
    parts = Path(compiled_provider_dir).parts[1:]
    for cut in range(1, len(parts)):
        if any((r.joinpath(*parts[cut:])).is_dir() for r in roots):
            return "/" + "/".join(parts[:cut])
    return None


def detect(root: Path) -> Layout | None:
    """The layout of a tree; None where it holds no libibverbs.so.1."""
    if root == Path("/"):
        found = ldconfig_path(LIBRARIES["libibverbs"])
        lib_dirs = [found.parent] if found and found.exists() else []
        lib_dirs += [root / d for d in LIB_DIRS if (root / d).is_dir() and root / d not in lib_dirs]
        kind, roots, bases = "host /usr", [root], [root / "usr"]
    else:
        where = _locate(root)
        if where is None:
            return None
        kind, roots, bases = where
        lib_dirs = [d for base in bases for d in _lib_dirs(base)]
    out = Layout(kind, roots, lib_dirs,
                 [b / "include" for b in bases if (b / "include" / "infiniband").is_dir()],
                 tree=root)
    libibverbs = out.find(LIBRARIES["libibverbs"])
    if libibverbs is None:
        return None
    _providers_and_config(out, libibverbs)
    return out


def _providers_and_config(out: Layout, libibverbs: Path) -> None:
    provider, config = _compiled(libibverbs)
    out.compiled_provider_dir, out.compiled_config_dir = provider, config
    prefix = _prefix(provider, out.roots) if provider else None
    if provider:
        candidates = _map(provider, out.roots, prefix)
        out.provider_dir = tree_safety.directory(
            out.tree, next((c for c in candidates if c.is_dir()), candidates[-1]))
        if not out.provider_dir.is_dir():
            out.problems.append(f"libibverbs ({libibverbs}) loads its providers from {provider}, "
                                f"which is not in the tree (looked at {out.provider_dir})")
    elif _BARE_PROVIDER_FILE.search(b"\0" + (elf.section(libibverbs, ".rodata") or b"")):
        # built with an empty VERBS_PROVIDER_DIR: providers on the linker path
        out.provider_dir = libibverbs.parent
    else:
        # no provider path at all (not rdma-core's libibverbs, or stripped of
        # it): rdma-core's default, LIBDIR/libibverbs, said as a guess
        out.provider_dir = tree_safety.directory(out.tree, libibverbs.parent / "libibverbs")
        out.problems.append(f"libibverbs ({libibverbs}) has no provider path compiled in; "
                            f"looked in {out.provider_dir}, rdma-core's default")
    config_candidates = (_map(config, out.roots, prefix) if config else []) + \
        [r / "etc" / "libibverbs.d" for r in out.roots]
    if config and prefix and out.roots[0].resolve() == Path(prefix):
        config_candidates.insert(0, Path(config))   # the tree is where it was built for
    seen = []
    for candidate in config_candidates:
        if candidate.is_dir() and candidate not in seen:
            seen.append(candidate)
    out.config_dirs = [tree_safety.directory(out.tree, d) for d in seen[:1]]


def find_library(root: Path, soname: str, found: Layout | None) -> Path | None:
    """The file a soname resolves to under root (found: its detected layout);
    in a tree detect() did not recognise, its usual library directories (a
    link there that leaves the tree or loops is refused, not passed over)."""
    if found:
        return found.find(soname)
    candidate = next((root / d / soname for d in LIB_DIRS
                      if (root / d / soname).exists() or (root / d / soname).is_symlink()), None)
    return tree_safety.regular_file(root, candidate) if candidate else None


def real_file(path: Path, root: Path) -> str:
    """The real file behind a soname symlink, relative to root."""
    return os.path.relpath(path.resolve(), root.resolve())


def headers(root: Path, found: Layout | None) -> list[str]:
    """The public headers (infiniband/, rdma/) of a tree, relative to its include dirs."""
    includes = found.include_dirs if found else [root / "usr" / "include"]
    names: set[str] = set()
    for include in includes:
        for sub in ("infiniband", "rdma"):
            names |= {str(p.relative_to(include)) for p in (include / sub).rglob("*.h")}
    return sorted(names)


def runtime_libdir(fetched, in_own_root: bool) -> str:
    """Where a stack's libibverbs is found at run time: where the stack is
    the root's own /usr (the lab), the default; on this host, its tree (or
    the host's library)."""
    if in_own_root:
        return f"/usr/lib/{MULTIARCH}"
    found = fetched.layout.find(LIBRARIES["libibverbs"]) if fetched.layout else None
    return str(found.parent) if found else f"/usr/lib/{MULTIARCH}"
