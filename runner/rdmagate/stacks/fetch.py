"""Provisioning: a stack's tree on disk, ready to inventory, build and run.

Debian stacks are downloaded (verified by apt) and unpacked into the cache;
a second fetch of the same manifest does no network work. Where the stack's
C library floor is above the host's, a root file system is built too."""
import hashlib
import os
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..paths import cache_dir, within
from . import archive, image, layers, layout, packages, rootfs
from .lock import locked
from .glibc import host_glibc, newer
from .layout import Layout
from .manifest import Stack, known, resolve


@dataclass
class FetchedStack:
    stack: Stack
    root: Path               # usr/lib/..., usr/include, etc/libibverbs.d inside
    rootfs: Path | None      # where the stack's binaries run, when not the host
    needs_rootfs: bool
    glibc_floor: str | None
    layout: Layout | None = None   # detected once here: reading libibverbs' .rodata is not free


def stack_cache(stack: Stack, cache: Path | None = None) -> Path:
    """The cache entry of a Debian stack: keyed by its exact package set, so
    an edited manifest never reuses another set's tree."""
    key = hashlib.sha256(json.dumps([stack.suite, stack.packages]).encode()).hexdigest()[:12]
    # debian-12@KERNEL is debian-12's userspace: the same tree
    return within((cache or cache_dir()) / "stacks", stack.name.partition("@")[0], key)


def fetch(stack: Stack, say=lambda text: None, cache: Path | None = None,
          mirror: str | None = None, with_rootfs: bool = True) -> FetchedStack:
    if stack.kind == "host":
        return _checked(stack, Path("/"), None)
    if stack.kind in image.KINDS:
        return _image(stack, say, cache)
    if stack.kind == "prefix" or stack.kind in packages.KINDS:
        directory = stack.prefix
        if directory is None:
            raise UsageError(f"stack {stack.name}: a {stack.kind} stack names no directory")
        if stack.kind == "prefix":
            return _checked(stack, directory, None)
        root = packages.unpacked(stack.kind, directory, stack.name, say, cache)
        fetched = _checked(stack, root, None)
        # a rootfs is needed only for a glibc floor above the host's
        if fetched.needs_rootfs and fetched.glibc_floor and with_rootfs and stack.kind == "debs":
            fetched.rootfs = _set_rootfs(fetched, fetched.glibc_floor, directory, mirror, say)
        return fetched
    if stack.suite is None:
        raise UsageError(f"stack {stack.name}: a {stack.kind} stack names no suite")
    entry = stack_cache(stack, cache)
    root = entry / "root"
    with locked(entry):
        if not root.is_dir():
            debs = archive.Archive(stack.suite, cache, mirror, say).download(stack.packages)
            say(f"unpacking {len(debs)} packages into {root}")
            archive.unpack(debs, root)
        fetched = _checked(stack, root, None)
        if fetched.needs_rootfs and with_rootfs:
            fetched.rootfs = rootfs.build(stack, archive.mirror_lookup.find(mirror),
                                          entry / "rootfs", say)
        elif (entry / "rootfs").is_dir():
            fetched.rootfs = entry / "rootfs"
    return fetched


def _image(stack: Stack, say, cache: Path | None) -> FetchedStack:
    """An image's root file system, laid out once per manifest digest. It is
    a whole root: the stack's binaries run in it, with its own C library."""
    found = image.read(stack.kind, stack.name)
    entry = within((cache or cache_dir()) / "stacks", stack.kind, found.key)
    root = entry / "root"
    with locked(entry):
        if root.is_dir():
            found.layers[0].source.close()
        else:
            layers.unpack(found, root, say)
    fetched = _checked(stack, root, None)
    if os.path.lexists(root / "lib64" / "ld-linux-x86-64.so.2"):
        fetched.rootfs, fetched.needs_rootfs = root, True
    return fetched


def _set_rootfs(fetched: FetchedStack, floor: str, package_dir: Path, mirror: str | None,
                say) -> Path:
    """The root file system a package set runs in: the oldest known suite
    whose libc6 meets its floor and whose packages meet its Depends' versions
    (sid's libibverbs1 needs libnl-3-200 >= 3.11, which trixie lacks), keyed
    by that suite beside the set's tree."""
    order = {suite: i for i, suite in enumerate(archive.SUITES)}
    suites = sorted({s.suite for s in map(resolve, known()) if s.kind == "debian" and s.suite},
                    key=order.__getitem__)
    stack = fetched.stack
    wanted = rootfs.depends(packages.package_files(stack.kind, package_dir, stack.name))
    skipped: list[str] = []   # said when the tree is built, not at every run
    suite = rootfs.choose_suite(stack.name, floor, suites,
                                lambda s: rootfs.suite_glibc(s, mirror),
                                lambda s: rootfs.unmet(s, wanted, mirror), skipped.append)
    entry = fetched.root.parent
    with locked(entry):
        if not (entry / f"rootfs-{suite}").is_dir():
            for line in skipped:
                say(line)
        return rootfs.for_set(stack, fetched.root, suite, wanted,
                              archive.mirror_lookup.find(mirror), entry / f"rootfs-{suite}", say)


def _checked(stack: Stack, root: Path, rootfs_dir: Path | None) -> FetchedStack:
    from .inventory import glibc_floor  # inventory reads what fetch made

    found = layout.detect(root)
    if layout.find_library(root, layout.LIBRARIES["libibverbs"], found) is None:
        what = "this host" if stack.kind == "host" else str(root)
        raise UsageError(f"stack {stack.name}: no libibverbs.so.1 in {what} "
                         "(looked in usr/lib/x86_64-linux-gnu, usr/lib64, lib, ...)")
    floor = glibc_floor(root, found)
    needs = stack.kind != "host" and floor is not None and newer(floor, host_glibc())
    return FetchedStack(stack, root, rootfs_dir, needs, floor, found)


def is_fetched(stack: Stack, cache: Path | None = None) -> bool:
    if stack.kind != "debian":
        return True
    return (stack_cache(stack, cache) / "root").is_dir()


def kernel_debs(stack: Stack, say=lambda text: None, cache: Path | None = None,
                mirror: str | None = None) -> list[Path]:
    """The stack's kernel packages, fetched like the rest (the lab unpacks them)."""
    if not stack.kernel:
        raise UsageError(f"stack {stack.name} names no kernel")
    pairs = [(p["name"], p["version"]) for p in stack.kernel["packages"]]
    suite = stack.kernel.get("suite") or stack.suite
    if suite is None:
        raise UsageError(f"stack {stack.name}: its kernel names no suite to fetch it from")
    return archive.Archive(suite, cache, mirror, say).download(pairs)

