"""The inventory of a fetched stack: what it exports, to whom, and needs.

Public version nodes (IBVERBS_1.x, RDMACM_1.x, IBUMAD_1.x) are the ABI
applications link against; IBVERBS_PRIVATE_NN binds providers to the
libibverbs they were built with (rdma-core's private ABI)."""
import re
import shutil
import subprocess
from pathlib import Path

from . import elf, glibc, layout, tree_safety
from .manifest import Stack

PRIVATE = re.compile(r"_PRIVATE_(\d+)$")
RDMA_MODULE = re.compile(r"^(rdma_\w+|ib_\w+|rdma_rxe|siw|mlx[45]_ib|irdma|efa|bnxt_re|"
                         r"hns_roce\w*|qedr|erdma|mana_ib|vmw_pvrdma)\b")
HOST_PACKAGES = ("libibverbs1", "ibverbs-providers", "librdmacm1", "librdmacm1t64",
                 "libibumad3", "ibverbs-utils", "rdmacm-utils", "perftest", "rdma-core")


def _library(path: Path, root: Path) -> dict:
    info = elf.read_elf(path)
    public, private = {}, {}
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
            "glibc_floor": glibc.highest(info.version_needs.get("libc.so.6", []))}


def _provider(path: Path, root: Path) -> dict:
    info = elf.read_elf(path)
    needs = info.version_needs.get("libibverbs.so.1", [])
    private = [int(m.group(1)) for v in needs if (m := PRIVATE.search(v))]
    match = layout.PROVIDER_FILE.match(path.name)
    return {"file": layout.real_file(path, root),
            "file_abi": int(match.group("abi")) if match else None,
            "private_abi": max(private) if private else None,
            "public_versions_needed": sorted(v for v in needs if not PRIVATE.search(v)),
            "glibc_floor": glibc.highest(info.version_needs.get("libc.so.6", []))}


def providers(root: Path, libibverbs: Path) -> tuple[Path, dict]:
    directory = tree_safety.directory(root, layout.provider_dir(root, libibverbs))
    found = {}
    for path in sorted(directory.glob("lib*-rdmav*.so")):
        match = layout.PROVIDER_FILE.match(path.name)
        if match:
            found[match.group("name")] = _provider(tree_safety.regular_file(root, path), root)
    return directory, found


def drivers(root: Path) -> list[str]:
    """Driver names libibverbs is configured to load (etc/libibverbs.d)."""
    names = set()
    for conf in (root / "etc" / "libibverbs.d").glob("*.driver"):
        tree_safety.regular_file(root, conf)
        for line in conf.read_text(errors="replace").splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "driver":
                names.add(words[1])
    return sorted(names)


def _headers(root: Path) -> list[str]:
    """The public headers, each a regular file of the tree (a compiler reads them)."""
    found = layout.headers(root)
    for header in found:
        tree_safety.regular_file(root, root / "usr" / "include" / header)
    return found


def glibc_floor(root: Path) -> str | None:
    """The highest GLIBC_x.y any of the stack's libraries or providers needs."""
    floors = []
    for soname in layout.LIBRARIES.values():
        path = layout.find_library(root, soname)
        if path:
            floors.append(glibc.highest(elf.read_elf(path).version_needs.get("libc.so.6", [])))
    libibverbs = layout.find_library(root, layout.LIBRARIES["libibverbs"])
    if libibverbs:
        directory = tree_safety.directory(root, layout.provider_dir(root, libibverbs))
        for path in directory.glob("lib*-rdmav*.so"):
            tree_safety.regular_file(root, path)
            floors.append(glibc.highest(elf.read_elf(path).version_needs.get("libc.so.6", [])))
    floors = [f for f in floors if f]
    return max(floors, key=glibc.parse) if floors else None


def _host_tools() -> dict:
    if shutil.which("dpkg-query") is None:
        return {}
    done = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n",
                           *HOST_PACKAGES], capture_output=True, text=True, check=False)
    return {words[0]: words[1] for words in map(str.split, done.stdout.splitlines())
            if len(words) == 3 and words[2].startswith("ii")}


def _host_kernel() -> dict:
    release = subprocess.run(["uname", "-r"], capture_output=True, text=True,
                             check=False).stdout.strip()
    modules_file = Path("/proc/modules")
    modules = []
    if modules_file.exists():
        modules = sorted(line.split()[0] for line in modules_file.read_text().splitlines()
                         if RDMA_MODULE.match(line.split()[0]))
    return {"release": release, "rdma_modules": modules}


def inventory(fetched) -> dict:
    stack: Stack = fetched.stack
    root = fetched.root
    libraries = {}
    for name, soname in layout.LIBRARIES.items():
        path = layout.find_library(root, soname)
        libraries[name] = _library(path, root) if path else None
    provider_dir, found = providers(root, layout.find_library(root, "libibverbs.so.1"))
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
        "libraries": libraries,
        "provider_dir": layout.real_file(provider_dir, root) if provider_dir.exists()
        else str(provider_dir),
        "providers": found,
        "drivers": drivers(root),
        "headers": _headers(root),
        "tools": tools,
        "kernel": kernel,
    }
