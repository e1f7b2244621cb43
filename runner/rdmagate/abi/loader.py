"""The provider loader (suites/abi/provider_load.c): built once with the host's
C compiler, run under a stack root's own dynamic loader.

It links nothing of rdma-core, so one build serves every stack; built against
the host's C library, it runs on any newer one (glibc keeps old symbol
versions), which is what lets a Debian 13 root's ld.so run it."""
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import tools
from ..errors import InfraError
from ..paths import REPO_ROOT
from ..stacks import elf, glibc
from ..stacks.lock import locked

SOURCE = REPO_ROOT / "suites" / "abi" / "provider_load.c"
BUILT = REPO_ROOT / "build" / "tools" / "rdmagate-provider-load"
LD_SO = "lib64/ld-linux-x86-64.so.2"
LIBC_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu")
TIMEOUT = 120


def build() -> Path:
    """The loader, rebuilt when its source is newer than the binary."""
    with locked(BUILT.parent):
        if BUILT.exists() and BUILT.stat().st_mtime >= SOURCE.stat().st_mtime:
            return BUILT
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise InfraError("no C compiler (cc) to build the provider loader: run ci/setup")
        tmp = BUILT.with_name(BUILT.name + ".tmp")
        done = tools.run([compiler, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
                          "-o", str(tmp), str(SOURCE)], tools.COMPILE)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no output"])[0]
            raise InfraError(f"building the provider loader {SOURCE} failed: {first}")
        tmp.replace(BUILT)
    return BUILT


def root_glibc(root: Path) -> str | None:
    """The C library version of a root: the host's own, or the newest GLIBC_x.y
    its libc.so.6 defines."""
    if root == Path("/"):
        return glibc.host_glibc()
    for libdir in LIBC_DIRS:
        libc = root / libdir / "libc.so.6"
        if libc.exists():
            return glibc.highest(elf.read_elf(libc).version_defs)
    return None


@dataclass
class Loaded:
    loaded: bool
    message: str       # the dynamic loader's words when not loaded


def load(binary: Path, root: Path, libibverbs: Path, providers: list[Path],
         library_path: list[Path]) -> list[Loaded]:
    """dlopen each provider after libibverbs, with root's ld.so and C library.

    --inhibit-cache: the host's /etc/ld.so.cache lists the host's libraries,
    not the root's; the path given (the stack's library directory first, then
    the root's) is where libibverbs of that root would find them."""
    if not providers:
        return []
    dirs = [str(d) for d in library_path] + [str(root / d) for d in LIBC_DIRS]
    argv = [str(root / LD_SO), "--inhibit-cache", "--library-path", ":".join(dirs),
            str(binary), str(libibverbs), *map(str, providers)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise InfraError(f"the provider loader did not end in {TIMEOUT} s in {root}") from None
    except OSError as err:
        raise InfraError(f"cannot run {root / LD_SO}: {err.strerror}") from None
    lines = done.stdout.splitlines()
    if lines and lines[0].startswith("libibverbs\t"):
        raise InfraError(f"the provider loader could not open {libibverbs} in {root}: "
                         f"{lines[0].partition(chr(9))[2]}")
    if done.returncode != 0 or len(lines) != len(providers):
        detail = (done.stderr.strip().splitlines() or ["no output"])[0]
        raise InfraError(f"the provider loader failed in {root} (exit {done.returncode}, "
                         f"{len(lines)} of {len(providers)} results): {detail}")
    return [_result(line) for line in lines]


def _result(line: str) -> Loaded:
    status, _, message = line.partition("\t")
    if status == "loaded":
        return Loaded(True, "")
    if status == "crashed":
        return Loaded(False, f"the load crashed (signal {message})")
    return Loaded(False, message)
