"""The inventory of a fetched stack: what it exports, to whom, and needs.

Public version nodes (IBVERBS_1.x, RDMACM_1.x, MLX5_1.x, ...) are the ABI
applications link against; IBVERBS_PRIVATE_NN binds providers to the
libibverbs they were built with (rdma-core's private ABI)."""
import os
import re
import shutil
from pathlib import Path

from .. import tools
from ..errors import UsageError
from . import devices_table, elf, glibc, layout, tree_safety
from .manifest import Stack

PRIVATE = re.compile(r"_PRIVATE_(\d+)$")
RDMA_MODULE = re.compile(r"^(rdma_\w+|ib_\w+|rdma_rxe|siw|mlx[45]_ib|irdma|efa|bnxt_re|"
                         r"hns_roce\w*|qedr|erdma|mana_ib|vmw_pvrdma)\b")
HOST_PACKAGES = ("libibverbs1", "ibverbs-providers", "librdmacm1", "librdmacm1t64",
                 "libibumad3", "ibverbs-utils", "rdmacm-utils", "perftest", "rdma-core")


def _library(path: Path, root: Path) -> dict:
    info = elf.read_elf(path)
    public: dict = {}
    private: dict = {}
    for symbol, version, default in info.exports:
        if version is None:
            continue
        key = symbol if default else f"{symbol}@{version}"
        (private if PRIVATE.search(version) else public)[key] = version
    return {"soname": info.soname, "file": layout.real_file(path, root),
            "public_versions": [v for v in info.version_defs if not PRIVATE.search(v)],
            "private_versions": [v for v in info.version_defs if PRIVATE.search(v)],
            "exports": {"public": dict(sorted(public.items())),
                        "private": dict(sorted(private.items()))},
            "needed": info.needed,
            "glibc_floor": glibc.highest(info.version_needs.get("libc.so.6", [])),
            "devices": devices_table.of(path)}


def _provider(path: Path, root: Path) -> dict:
    info = elf.read_elf(path)
    needs = info.version_needs.get("libibverbs.so.1", [])
    private = [int(m.group(1)) for v in needs if (m := PRIVATE.search(v))]
    match = layout.PROVIDER_FILE.match(path.name)
    return {"file": layout.real_file(path, root),
            "file_abi": int(match.group("abi")) if match else None,
            "private_abi": max(private) if private else None,
            "public_versions_needed": sorted(v for v in needs if not PRIVATE.search(v)),
            "glibc_floor": glibc.highest(info.version_needs.get("libc.so.6", [])),
            "devices": devices_table.of(path)}


def _dangling(root: Path, path: Path) -> bool:
    """A link to a file the tree lacks, inside the tree (a tree copied
    without its target): never read, and libibverbs could not load it."""
    return path.is_symlink() and not path.exists() and \
        Path(os.path.realpath(path)).is_relative_to(root.resolve())


def providers(root: Path, found: layout.Layout | None) -> tuple[Path, dict, list[str]]:
    """(their directory, the providers by name, what is wrong with the others)."""
    directory = tree_safety.directory(root, found.provider_dir if found and found.provider_dir
                                      else root / layout.DEFAULT_PROVIDER_DIR)
    out, broken = {}, []
    for path in sorted(directory.glob("lib*-rdmav*.so")):
        match = layout.PROVIDER_FILE.match(path.name)
        if match and _dangling(root, path):
            broken.append(f"provider {match.group('name')}: {path} links to "
                          f"{os.readlink(path)}, which is not in the tree: libibverbs "
                          "cannot load it")
        elif match and (path.exists() or path.is_symlink()):
            out[match.group("name")] = _provider(tree_safety.regular_file(root, path), root)
    return directory, out, broken


def drivers(root: Path, found: layout.Layout | None) -> list[str]:
    """Driver names libibverbs is configured to load (its libibverbs.d)."""
    config_dirs = found.config_dirs if found else [root / "etc" / "libibverbs.d"]
    return driver_names([c for d in config_dirs for c in d.glob("*.driver")], root)


def driver_names(config: list[Path], root: Path = Path("/")) -> list[str]:
    """Driver names of these libibverbs.d files (their `driver NAME` lines),
    each a regular file of the tree at root."""
    names = set()
    for conf in config:
        tree_safety.regular_file(root, conf)
        for line in conf.read_text(errors="replace").splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "driver":
                names.add(words[1])
    return sorted(names)


def library_files(root: Path, found: layout.Layout | None) -> dict[str, Path]:
    """Every public library of the stack, by name: rdma-core's known ones,
    and in a tree (not the host, where the linker path holds everything)
    any other versioned library that links libibverbs (a vendor's own)."""
    if found is None:
        return {}
    out = {name: path for name, soname in layout.LIBRARIES.items()
           if (path := found.find(soname))}
    if root == Path("/"):
        return out
    known = set(layout.LIBRARIES.values())
    for lib_dir in found.lib_dirs:
        for path in sorted(lib_dir.glob("lib*.so.*")):
            if not re.fullmatch(r"lib[\w+-]+\.so\.\d+", path.name) or path.name in known:
                continue
            try:   # only regular files of the tree are opened (a FIFO would hang)
                tree_safety.regular_file(root, path)
            except UsageError:
                continue
            info = elf.read_elf(path) if elf.is_elf(path) else None
            if info and info.version_defs and "libibverbs.so.1" in info.needed:
                out.setdefault(path.name.split(".so", 1)[0], path)
    return out


def _headers(root: Path, found: layout.Layout | None) -> list[str]:
    """The public headers, each a regular file of the tree (a compiler reads them)."""
    names = layout.headers(root, found)
    includes = found.include_dirs if found else [root / "usr" / "include"]
    for name in names:
        tree_safety.regular_file(root, next((d / name for d in includes if (d / name).exists()
                                             or (d / name).is_symlink()), includes[0] / name))
    return names


def glibc_floor(root: Path, found: layout.Layout | None) -> str | None:
    """The highest GLIBC_x.y any of the stack's libraries or providers needs."""
    paths = list(library_files(root, found).values())
    if found and found.provider_dir:
        paths += [tree_safety.regular_file(root, p)
                  for p in found.provider_dir.glob("lib*-rdmav*.so")
                  if (p.exists() or p.is_symlink()) and not _dangling(root, p)]
    needs = (elf.read_elf(p).version_needs.get("libc.so.6", []) for p in paths)
    floors = [f for f in map(glibc.highest, needs) if f]
    return max(floors, key=glibc.parse) if floors else None


def _host_tools() -> dict:
    if shutil.which("dpkg-query") is None:
        return {}
    done = tools.run(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n",
                      *HOST_PACKAGES], tools.QUICK)
    return {words[0]: words[1] for words in map(str.split, done.stdout.splitlines())
            if len(words) == 3 and words[2].startswith("ii")}


def _host_kernel() -> dict:
    release = tools.run(["uname", "-r"], tools.QUICK).stdout.strip()
    modules_file = Path("/proc/modules")
    modules = []
    if modules_file.exists():
        modules = sorted(line.split()[0] for line in modules_file.read_text().splitlines()
                         if RDMA_MODULE.match(line.split()[0]))
    return {"release": release, "rdma_modules": modules}


def _layout_record(found: layout.Layout | None, root: Path, provider_dir: Path,
                   providers_found: dict, libraries: dict) -> tuple[dict, list[str]]:
    """What `stacks show` says of the tree's layout, and what is wrong with it."""
    if found is None:
        return {"kind": "none"}, []
    warnings = list(found.problems)
    if libraries.get("libibverbs") and not providers_found and not warnings:
        warnings.append(f"no providers in {provider_dir} (the directory libibverbs loads them "
                        f"from{', compiled in as ' + found.compiled_provider_dir if found.compiled_provider_dir else ''}): "
                        "applications would find no device")
    if libraries.get("libibverbs") and not found.config_dirs:
        warnings.append("no libibverbs.d configuration directory in the tree"
                        + (f" (compiled in as {found.compiled_config_dir})"
                           if found.compiled_config_dir else "")
                        + ": libibverbs would load no provider")
    rel = lambda p: layout.real_file(p, root) if p.exists() else str(p)   # noqa: E731
    return {"kind": found.kind,
            "include_dirs": [rel(p) for p in found.include_dirs],
            "config_dir": rel(found.config_dirs[0]) if found.config_dirs else None,
            "compiled_provider_dir": found.compiled_provider_dir,
            "compiled_config_dir": found.compiled_config_dir}, warnings


def inventory(fetched) -> dict:
    stack: Stack = fetched.stack
    root = fetched.root
    found = fetched.layout
    files = library_files(root, found)
    libraries: dict[str, dict | None] = {name: None for name in layout.CORE}
    libraries.update({name: _library(path, root) for name, path in files.items()})
    provider_dir, providers_found, broken = providers(root, found)
    where, warnings = _layout_record(found, root, provider_dir, providers_found, libraries)
    warnings += broken
    if stack.kind in ("debian", "debs", "rpms"):
        tools = {n: v for n, v in stack.packages}
        kernel = stack.kernel
    elif stack.kind == "host":
        tools, kernel = _host_tools(), _host_kernel()
    else:
        tools, kernel = {}, None
    return {
        "stack": {"name": stack.name, "kind": stack.kind, "description": stack.description,
                  "suite": stack.suite, "rdma_core": stack.rdma_core,
                  "manifest": str(stack.manifest) if stack.manifest else None},
        "root": str(root),
        "rootfs": str(fetched.rootfs) if fetched.rootfs else None,
        "glibc_floor": fetched.glibc_floor,
        "host_glibc": glibc.host_glibc(),
        "needs_rootfs": fetched.needs_rootfs,
        "layout": where,
        "warnings": warnings,
        "libraries": libraries,
        "provider_dir": layout.real_file(provider_dir, root) if provider_dir.exists()
        else str(provider_dir),
        "providers": providers_found,
        "drivers": drivers(root, found),
        "headers": _headers(root, found),
        "tools": tools,
        "kernel": kernel,
    }
