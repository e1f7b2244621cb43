"""The lab's initramfs: Debian's static busybox, the modules the guest needs
before its root is mounted (with their dependencies from the kernel's own
modules.dep), and /init. Cached beside the kernel, keyed by its contents."""
import gzip
import hashlib
import shutil
import tempfile
from pathlib import Path

from ... import tools
from ...errors import InfraError
from ...files import write_atomic
from .kernel import Kernel

BUSYBOX = Path("/bin/busybox")
INIT = Path(__file__).with_name("init.sh")
# What mounting the root over 9p with an overlay needs; the rest (virtio_net,
# rxe, ...) the guest's own modprobe loads from the mounted modules.
BOOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")


def _dependencies(kernel: Kernel) -> dict[str, list[str]]:
    deps = {}
    for line in (kernel.modules / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    return deps


def load_order(kernel: Kernel, names=BOOT_MODULES) -> list[str]:
    """Module files (relative to the modules directory) in an order insmod
    can load them: every dependency before what needs it."""
    deps = _dependencies(kernel)
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        # modules.dep lists what a module needs nearest first; load farthest first
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        order.append(path)

    for name in names:
        found = kernel.module_path(name)
        if found is not None:
            visit(str(found.relative_to(kernel.modules)))
        # else built in (or absent: the mount that needs it will say so)
    return order


def build(kernel: Kernel) -> Path:
    """The initramfs for a kernel (built once per content)."""
    if not BUSYBOX.is_file():
        raise InfraError(f"{BUSYBOX} is missing: run ci/setup (Debian's busybox-static)")
    modules = load_order(kernel)
    key = hashlib.sha256(INIT.read_bytes() + BUSYBOX.read_bytes()
                         + "\n".join(modules).encode()).hexdigest()[:12]
    target = kernel.tree.parent / f"{kernel.release}.initramfs-{key}.cpio.gz"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="rdmagate-initramfs-") as tmp:
        stage = Path(tmp) / "root"
        (stage / "bin").mkdir(parents=True)
        shutil.copy2(BUSYBOX, stage / "bin" / "busybox")
        shutil.copy2(INIT, stage / "init")
        (stage / "init").chmod(0o755)
        for module in modules:
            dest = stage / "mods" / module
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(kernel.modules / module, dest)
        (stage / "boot-modules").write_text("\n".join(modules) + "\n")
        files = sorted(str(p.relative_to(stage)) for p in stage.rglob("*"))
        done = tools.run(["cpio", "-o", "-H", "newc", "--quiet"], tools.UNPACK, cwd=stage,
                         input="\n".join(files).encode(), text=False)
        if done.returncode != 0:
            raise InfraError(f"cpio failed building the initramfs: {done.stderr.decode().strip()}")
        write_atomic(target, gzip.compress(done.stdout, compresslevel=6), "the initramfs")
    return target
