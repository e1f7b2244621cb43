"""A root file system for a stack whose C library is newer than the host's.

Its binaries cannot run on the host's glibc, so they run inside this tree
(chroot, or the lab VM's root). Built with mmdebstrap from the stack's own
suite, with the stack's exact rdma-core versions, into the cache. A package
set (debs:DIR) gets the oldest known suite whose C library meets its floor,
with what its packages Depend on, and its own files laid over it."""
import os
import shutil
import tempfile
from pathlib import Path

from .. import tools
from ..errors import InfraError, UsageError
from . import glibc, names, packages, tree_safety
from .archive import KEYRING, Archive

# What a test run needs besides the stack: tools to bring rxe up, the
# harness's runtime libraries, and perf to say where the software path got
# longer (perf/attribute.py). A root records them beside it (stamp_of) and
# one built without any of them is built again.
EXTRA = ("iproute2", "kmod", "libcunit1", "libjson-c5", "linux-perf")


# mmdebstrap runs apt with its own configuration; carry over the host's
# choices about the archive (a snapshot mirror's expired Release, a proxy),
# which rdmagate's private apt inherits from /etc/apt anyway.
HOST_APT_OPTIONS = ("Acquire::Check-Valid-Until", "Acquire::Check-Date",
                    "Acquire::http::Proxy", "Acquire::https::Proxy")


def host_apt_options() -> list[str]:
    done = tools.run(["apt-config", "dump", *HOST_APT_OPTIONS], tools.QUICK)
    return [f"--aptopt={line.strip()}" for line in done.stdout.splitlines()
            if line.split(" ", 1)[0] in HOST_APT_OPTIONS]


def build(stack, mirror: str, dest: Path, say) -> Path:
    """mmdebstrap the stack's suite with its packages into dest (atomic)."""
    runtime = [f"{n}={v}" for n, v in stack.packages if not n.endswith("-dev")]
    return _mmdebstrap(stack.suite, runtime, stack.name, mirror, dest, say)


def choose_suite(name: str, floor: str, suites: list[str], glibc_of,
                 unmet=lambda suite: None, say=lambda text: None) -> str:
    """The oldest of suites (oldest first) whose C library glibc_of(suite)
    meets floor and where unmet(suite) names no dependency it cannot meet;
    UsageError naming the floor and the newest suite's glibc otherwise."""
    for suite in suites:
        have = glibc_of(suite)
        why = f"glibc {have}" if glibc.newer(floor, have) else unmet(suite)
        if why is None:
            return suite
        say(f"{suite} cannot run {name}: {why}")
    if glibc.newer(floor, have):
        raise UsageError(f"stack {name} needs glibc {floor}; the newest known suite, "
                         f"{suites[-1]}, has glibc {have}: no root file system can run it")
    raise UsageError(f"stack {name} needs glibc {floor}, which the newest known suite, "
                     f"{suites[-1]} (glibc {have}), meets, but not its Depends ({why}): "
                     "no root file system can run it")


def suite_glibc(suite: str, mirror: str | None = None) -> str:
    """The upstream version of the suite's libc6 ('2.41' of 2.41-12)."""
    versions = Archive(suite, mirror=mirror).versions("libc6")
    if not versions:
        raise InfraError(f"the {suite} archive lists no libc6")
    return versions[0].split(":")[-1].split("-")[0]


def depends(files: list[Path]) -> list[tuple[str, str | None]]:
    """What the set's runtime packages Depend on, as (name, 'OP VERSION' or
    None): the first of alternatives, leaving out the set's own packages."""
    fields = [packages.deb_fields(f, "Package", "Version", "Depends", "Pre-Depends")
              for f in files]
    own = {f["Package"] for f in fields}
    wanted: dict[str, set[str | None]] = {}
    for f in fields:
        if f["Package"].endswith("-dev"):
            continue
        for item in ", ".join(filter(None, (f.get("Depends"), f.get("Pre-Depends")))).split(","):
            first, _, bound = item.split("|")[0].partition("(")
            name = first.strip().split(":")[0]
            if name and name not in own:
                names.package(name, f"a dependency of {f['Package']}")
                wanted.setdefault(name, set()).add(bound.strip(" )") or None)
    return [(n, b) for n, bounds in wanted.items() for b in sorted(bounds, key=str)]


def unmet(suite: str, wanted: list[tuple[str, str | None]], mirror: str | None = None) -> str | None:
    """The first dependency the suite's newest version does not meet, said
    as 'libnl-3-200 (>= 3.11.0): trixie has 3.7.0-2', or None."""
    archive = Archive(suite, mirror=mirror)
    for name, bound in wanted:
        versions = archive.versions(name)
        op, _, version = (bound or "").partition(" ")
        if not versions:
            return f"{name}: not in {suite}"
        if bound and tools.run(["dpkg", "--compare-versions", versions[0], op, version],
                               tools.QUICK).returncode != 0:
            return f"{name} ({bound}): {suite} has {versions[0]}"
    return None


def for_set(stack, root: Path, suite: str, wanted, mirror: str, dest: Path, say) -> Path:
    """A suite's root file system with what the package set Depends on, and
    the set's unpacked tree laid over it (overlay: never through a link)."""
    include = sorted({name for name, _ in wanted})
    return _mmdebstrap(suite, include, stack.name, mirror, dest, say,
                       lambda tree: overlay(root, tree))


def overlay(source: Path, root: Path) -> None:
    """Copy the tree source over the tree root. Every path written is resolved
    inside root (tree_safety.inside), a link of source is copied as a link and
    never followed, and a link at the destination is replaced, never written
    through: nothing lands outside root."""
    root = root.resolve()
    for top, dirs, files in os.walk(source):
        here = Path(top).relative_to(source)
        into = tree_safety.inside(root, here)
        for name in sorted(dirs + files):
            src, dest = Path(top) / name, into / name
            if src.is_dir() and not src.is_symlink():
                continue    # made inside root when os.walk reaches it
            if not (src.is_symlink() or src.is_file()):
                raise UsageError(f"{src}: not a regular file, directory or link; "
                                 "refused rather than laid over the root file system")
            if dest.is_dir() and not dest.is_symlink():
                raise UsageError(f"{src}: the root file system has a directory at {dest}")
            if dest.is_symlink() or dest.exists():
                dest.unlink()
            if src.is_symlink():
                os.symlink(os.readlink(src), dest)
            else:
                shutil.copy2(src, dest, follow_symlinks=False)


def mmdebstrap(suite: str, include: list[str], mirror: str, into: Path, what: str,
               variant: str = "essential") -> None:
    """A root of suite from mirror with include, made at into (absent
    before); InfraError naming what, with mmdebstrap's last lines."""
    if shutil.which("mmdebstrap") is None:
        raise InfraError("mmdebstrap is not installed: run ci/setup")
    # unshare mode: mmdebstrap's mounts live in a private namespace and die
    # with it, so a killed build never leaves /proc or /dev mounted in the cache.
    argv = ["mmdebstrap", "--mode=unshare", "--quiet", f"--variant={variant}",
            f"--include={','.join(include)}", f"--keyring={KEYRING}", *host_apt_options(),
            suite, str(into), f"deb [signed-by={KEYRING}] {mirror} {suite} main"]
    done = tools.run(argv, tools.DOWNLOAD)
    if done.returncode != 0:
        tail = names.redact(" | ".join(done.stderr.strip().splitlines()[-3:]))
        raise InfraError(f"mmdebstrap of {what} failed: {tail}")


def stamp_of(dest: Path) -> Path:
    """Beside a root: the EXTRA packages it was built with, one a line."""
    return dest.parent / f"{dest.name}.extra"


def missing_extra(dest: Path) -> list[str]:
    """The EXTRA packages a cached root was built without (all of them for a
    root older than its stamp): a new tool of EXTRA reaches old caches."""
    try:
        have = set(stamp_of(dest).read_text().split())
    except OSError:
        have = set()
    return [name for name in EXTRA if name not in have]


def _mmdebstrap(suite: str, include: list[str], label: str, mirror: str, dest: Path, say,
                finish=lambda tree: None) -> Path:
    lacking = missing_extra(dest) if dest.is_dir() else []
    if dest.is_dir() and not lacking:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".rootfs.partial-"))
    if lacking:
        say(f"rebuilding the {suite} root file system for {label}: it was built without "
            f"{', '.join(lacking)}")
    else:
        say(f"building a {suite} root file system for {label} with mmdebstrap")
    try:
        mmdebstrap(suite, include + list(EXTRA), mirror, tmp / "root", f"{suite} for {label}")
        finish(tmp / "root")
        if dest.is_dir():   # the old root goes only once the new one is whole
            dest.rename(tmp / "old")
        (tmp / "root").rename(dest)
        stamp_of(dest).write_text("".join(f"{name}\n" for name in EXTRA))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
