"""An out-of-tree module built against a stack's Debian kernel headers with
that kernel's own kbuild and the compiler the kernel was built with (its
.config names it: gcc-12 for 6.1, x86_64-linux-gnu-gcc-14 for 6.12):

- this host's, when it has that compiler: from the private unpack of the
  headers (facts.headers_dir);
- else a build root of the stack's suite (mmdebstrap --variant=apt with that
  gcc, make and the headers packages, cached in kabi/buildroot/), entered
  with chroot.

The sources are copied into a build directory: kbuild writes beside them."""
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from .. import tools
from ..errors import InfraError, UsageError
from ..paths import REPO_ROOT
from ..stacks import resolve
from ..stacks.archive import mirror_lookup
from ..stacks.lock import locked
from ..stacks.rootfs import mmdebstrap
from . import facts, symvers

TEST_MODULE = REPO_ROOT / "suites" / "kabi"


def compiler(headers: Path) -> str:
    """The compiler the kernel's kbuild calls, from CONFIG_CC_VERSION_TEXT."""
    text = symvers.read_config(headers / ".config").get("CONFIG_CC_VERSION_TEXT", "gcc")
    return text.split()[0]


def _copy_sources(source: Path, dest: Path) -> None:
    if not (source / "Kbuild").is_file() and not (source / "Makefile").is_file():
        raise UsageError(f"{source}: no Kbuild or Makefile: not a module source directory")
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.suffix in (".c", ".h") or item.name in ("Kbuild", "Makefile"):
            shutil.copy2(item, dest / item.name)


def _make(argv: list[str], what: str) -> None:
    done = tools.run(argv, tools.BUILD,
                     env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
    if done.returncode != 0:
        errors = [l for l in done.stderr.splitlines() if "error" in l.lower()] or \
            done.stderr.strip().splitlines()[-3:]
        raise InfraError(f"building {what} failed: {' / '.join(errors[:3])}")


def build(stack_name: str, dest: Path, source: Path = TEST_MODULE,
          say=lambda text: None) -> list[Path]:
    """make -C HEADERS M=... modules; the .ko files made, in dest."""
    stack = resolve(stack_name)
    headers = facts.headers_dir(stack, say)
    cc, dest = compiler(headers), Path(dest)
    if shutil.which("make") and shutil.which(cc):
        _copy_sources(source, dest)
        say(f"building {source.name} against {headers.name} with this host's {cc}")
        _make(["make", "-j2", "-C", str(headers), f"M={dest}", "modules"],
              f"{source.name} against {headers.name}")
        return sorted(dest.glob("*.ko"))
    root = build_root(stack, cc, say)
    work = Path(tempfile.mkdtemp(dir=root / "tmp", prefix="rdmagate-build-"))
    try:
        _copy_sources(source, work)
        inside = f"/tmp/{work.name}"
        say(f"building {source.name} against {headers.name} with {cc} in a {stack.suite} "
            "build root")
        _make(["chroot", str(root), "make", "-j2", "-C", f"/usr/src/{headers.name}",
               f"M={inside}", "modules"], f"{source.name} against {headers.name} in {root}")
        dest.mkdir(parents=True, exist_ok=True)
        for ko in work.glob("*.ko"):
            shutil.copy2(ko, dest / ko.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sorted(dest.glob("*.ko"))


DEVICES = {"null": 3, "zero": 5, "full": 7, "random": 8, "urandom": 9}   # char major 1


def _devices(root: Path) -> None:
    """mmdebstrap's unshare mode leaves /dev/null and friends as plain files;
    kbuild compiles /dev/null as a source, so they must be the real devices."""
    for name, minor in DEVICES.items():
        node = root / "dev" / name
        node.unlink(missing_ok=True)
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        node.chmod(0o666)


def build_root(stack, cc: str, say=lambda text: None) -> Path:
    """A root of the stack's suite with cc, make and its headers installed."""
    match = re.search(r"gcc-(\d+)$", cc)
    if not match:
        raise InfraError(f"the kernel of {stack.name} was built with {cc}: rdmagate builds "
                         "modules with Debian's gcc-N only")
    dest = facts.entry(stack) / "buildroot"
    if dest.is_dir():
        return dest
    if shutil.which("mmdebstrap") is None:   # before asking for root
        raise InfraError("mmdebstrap is not installed: run ci/setup")
    if os.geteuid() != 0:
        raise InfraError(f"building a module for {stack.name} needs {cc}, which this host "
                         "lacks, and a build root entered with chroot, which needs root")
    include = [f"gcc-{match.group(1)}", "make", "libc6-dev",
               *(f"{p['name']}={p['version']}" for p in stack.kernel["headers"])]
    with locked(dest.parent):
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".buildroot.partial-"))
        try:
            say(f"building a {stack.suite} build root with {cc} (mmdebstrap, once)")
            mmdebstrap(stack.suite, include, mirror_lookup.find(None), tmp / "root",
                       f"a {stack.suite} build root", variant="apt")
            _devices(tmp / "root")
            (tmp / "root").rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
