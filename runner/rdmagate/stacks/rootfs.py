"""A root file system for a stack whose C library is newer than the host's.

Its binaries cannot run on the host's glibc, so they run inside this tree
(chroot, or the lab VM's root). Built with mmdebstrap from the stack's own
suite, with the stack's exact rdma-core versions, into the cache."""
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InfraError
from . import names
from .archive import KEYRING

# What a test run needs besides the stack: tools to bring rxe up, and the
# harness's runtime libraries.
EXTRA = ("iproute2", "kmod", "libcunit1", "libjson-c5")


# mmdebstrap runs apt with its own configuration; carry over the host's
# choices about the archive (a snapshot mirror's expired Release, a proxy),
# which rdmagate's private apt inherits from /etc/apt anyway.
HOST_APT_OPTIONS = ("Acquire::Check-Valid-Until", "Acquire::Check-Date",
                    "Acquire::http::Proxy", "Acquire::https::Proxy")


def host_apt_options() -> list[str]:
    done = subprocess.run(["apt-config", "dump", *HOST_APT_OPTIONS], capture_output=True,
                          text=True, errors="replace", check=False)
    return [f"--aptopt={line.strip()}" for line in done.stdout.splitlines()
            if line.split(" ", 1)[0] in HOST_APT_OPTIONS]


def build(stack, mirror: str, dest: Path, say) -> Path:
    """mmdebstrap the stack's suite with its packages into dest (atomic)."""
    if dest.is_dir():
        return dest
    if shutil.which("mmdebstrap") is None:
        raise InfraError("mmdebstrap is not installed: run ci/setup")
    runtime = [f"{n}={v}" for n, v in stack.packages if not n.endswith("-dev")]
    include = ",".join(runtime + list(EXTRA))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".rootfs.partial-"))
    say(f"building a {stack.suite} root file system for {stack.name} with mmdebstrap")
    # unshare mode: mmdebstrap's mounts live in a private namespace and die
    # with it, so a killed build never leaves /proc or /dev mounted in the cache.
    argv = ["mmdebstrap", "--mode=unshare", "--quiet", "--variant=essential", f"--include={include}",
            f"--keyring={KEYRING}", *host_apt_options(), stack.suite, str(tmp / "root"),
            f"deb [signed-by={KEYRING}] {mirror} {stack.suite} main"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
        if done.returncode != 0:
            tail = names.redact(" | ".join(done.stderr.strip().splitlines()[-3:]))
            raise InfraError(f"mmdebstrap of {stack.suite} for {stack.name} failed: {tail}")
        (tmp / "root").rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
