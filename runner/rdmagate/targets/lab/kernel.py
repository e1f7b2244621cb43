"""A Debian kernel for the lab: fetched with the stack, unpacked into the
cache, modules decompressed (busybox insmod reads plain .ko) and indexed."""
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ... import files, tools
from ...errors import InfraError, UsageError
from ...paths import cache_dir, within
from ...stacks import archive, kernel_stack, kernels, known, names, resolve
from ...stacks.lock import locked


@dataclass
class Kernel:
    release: str
    tree: Path          # the unpacked packages
    vmlinuz: Path
    modules: Path       # <tree>/.../lib/modules/<release>

    def module_path(self, name: str) -> Path | None:
        """The .ko of a module by name (dashes and underscores alike)."""
        wanted = name.replace("-", "_")
        for line in (self.modules / "modules.dep").read_text().splitlines():
            path = line.split(":", 1)[0]
            if Path(path).name.removesuffix(".ko").replace("-", "_") == wanted:
                return self.modules / path
        return None


def _modules_dir(tree: Path, release: str) -> Path:
    for candidate in (tree / "lib" / "modules" / release, tree / "usr" / "lib" / "modules" / release):
        if candidate.is_dir():
            return candidate
    raise InfraError(f"kernel {release}: no modules directory in its packages ({tree})")


def _vmlinuz(tree: Path, release: str) -> Path:
    for candidate in (tree / "boot" / f"vmlinuz-{release}",
                      tree / "usr" / "lib" / "modules" / release / "vmlinuz",
                      tree / "lib" / "modules" / release / "vmlinuz"):
        if candidate.is_file():
            return candidate
    raise InfraError(f"kernel {release}: no vmlinuz in its packages ({tree})")


def _decompress_modules(modules: Path) -> None:
    """.ko.xz and .ko.zst -> .ko (busybox's insmod reads plain modules only),
    each expanded up to a bound."""
    for packed in [*modules.rglob("*.ko.xz"), *modules.rglob("*.ko.zst")]:
        try:
            data = files.read_unpacked(packed, "a kernel module", files.MAX_BINARY_BYTES)
        except UsageError as err:   # the kernel's own package: not the user's input
            raise InfraError(str(err)) from None
        packed.with_suffix("").write_bytes(data)
        packed.unlink()


def _index(tree: Path, modules: Path, release: str) -> None:
    # depmod -b looks in BASE/lib/modules; merged-/usr kernels ship usr/lib/modules.
    base_modules = tree / "lib" / "modules"
    if not base_modules.exists():
        base_modules.parent.mkdir(parents=True, exist_ok=True)
        base_modules.symlink_to(Path("..") / "usr" / "lib" / "modules")
    done = tools.run(["depmod", "-b", str(tree), release], tools.UNPACK)
    if done.returncode != 0:
        raise InfraError(f"depmod of kernel {release} failed: {done.stderr.strip()}")


def prepare(stack, release: str | None = None, say=lambda text: None,
            cache: Path | None = None) -> Kernel:
    """The stack's kernel (or another release of the same suite), ready to boot."""
    stack = kernel_stack(stack)
    kernel = stack.kernel
    if release:
        names.kernel_release(release, "--kernel")  # a directory of the cache, then apt names
    if release and release in known():
        other = resolve(release)
        if not other.kernel:
            raise UsageError(f"--kernel {release}: that stack names no kernel")
        kernel = dict(other.kernel, suite=other.suite)
    elif release and (not kernel or release != kernel["release"]):
        kernel = kernels.lookup(stack.suite, release)
    if not kernel:
        raise UsageError(f"stack {stack.name} names no kernel: pass --kernel RELEASE")
    chosen: str = kernel["release"]
    root = (cache or cache_dir()) / "kernels"
    tree = within(root, chosen)
    with locked(root):
        if not tree.is_dir():
            pairs = [(p["name"], p["version"]) for p in kernel["packages"]]
            suite = kernel.get("suite") or stack.suite or "bookworm"
            debs = archive.Archive(suite, cache, None, say).download(pairs)
            say(f"unpacking kernel {chosen}")
            tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{chosen}.partial-"))
            try:
                unpacked = archive.unpack(debs, tmp / "tree")
                modules = _modules_dir(unpacked, chosen)
                _decompress_modules(modules)
                _index(unpacked, modules, chosen)
                unpacked.rename(tree)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    return Kernel(chosen, tree, _vmlinuz(tree, chosen), _modules_dir(tree, chosen))
