"""An out-of-tree module built against a stack's Debian kernel headers with
that kernel's own kbuild, from a private unpack (facts.headers_dir), with
this host's gcc. The sources are copied into the build directory: kbuild
writes its objects beside them."""
import os
import shutil
import subprocess
from pathlib import Path

from ..errors import InfraError, UsageError
from ..paths import REPO_ROOT
from ..stacks import resolve
from . import facts

TEST_MODULE = REPO_ROOT / "suites" / "kabi"


def build(stack_name: str, dest: Path, source: Path = TEST_MODULE,
          say=lambda text: None) -> list[Path]:
    """make -C HEADERS M=dest modules; the .ko files made, in dest."""
    stack = resolve(stack_name)
    headers = facts.headers_dir(stack, say)
    dest = Path(dest)
    if not (source / "Kbuild").is_file() and not (source / "Makefile").is_file():
        raise UsageError(f"{source}: no Kbuild or Makefile: not a module source directory")
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and item.suffix in (".c", ".h") or item.name in ("Kbuild", "Makefile"):
            shutil.copy2(item, dest / item.name)
    if shutil.which("make") is None or shutil.which("gcc") is None:
        raise InfraError("make and gcc are needed to build a kernel module: run ci/setup")
    say(f"building {source.name} against {headers.name}")
    done = subprocess.run(["make", "-j2", "-C", str(headers), f"M={dest}", "modules"],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, LC_ALL="C"))
    if done.returncode != 0:
        errors = [l for l in done.stderr.splitlines() if "error" in l.lower()] or \
            done.stderr.strip().splitlines()[-3:]
        raise InfraError(f"building {source.name} against {headers.name} failed: "
                         f"{' / '.join(errors[:3])}")
    return sorted(dest.glob("*.ko"))
