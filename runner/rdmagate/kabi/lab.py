"""The proof: each module loaded into B's kernel in one lab guest (one boot
for all of them), the kernel's messages recorded, the module unloaded. A
proof agrees with its prediction when the module loaded exactly when it was
predicted to, and a refused one's first predicted message is among the
kernel's lines."""
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InfraError
from ..targets.lab.guests import Lab
from ..targets.scripts import KABI_LOAD
from .modules import read_plain

MARK = "rdmagate-kabi: begin "
STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")


@dataclass
class Proof:
    module: str
    kernel: str
    loaded: bool
    agrees: bool
    insmod: str                                  # insmod's own output
    kernel_lines: list[str] = field(default_factory=list)   # after the marker


def _after_mark(log: str, name: str) -> list[str]:
    lines = [STAMP.sub("", line) for line in log.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.endswith(MARK + name)]
    return [l for l in lines[starts[-1] + 1:] if l.strip()] if starts else []


def prove(stack_name: str, modules: list, predictions: list, say=lambda text: None) -> list[Proof]:
    """Boot B's kernel once and load every module; one Proof each."""
    work = Path(tempfile.mkdtemp(prefix="rdmagate-kabi-lab-"))
    try:
        out = work / "out"
        out.mkdir()
        shutil.copy2(KABI_LOAD, work / "kabi_load.sh")
        items = []
        for index, module in enumerate(modules):
            copy = work / f"m{index}.ko"     # names from input never become paths
            copy.write_bytes(read_plain(module.path))
            items += [f"m{index}", module.name, str(copy)]
        target = Lab(stack_name, "kabi --lab")
        lines: list[str] = []
        ran = target.run(["sh", str(work / "kabi_load.sh"), str(out), *items],
                         shares=[(work, True)], on_line=lines.append, say=say, timeout=300)
        if ran.exit_status != 0:
            raise InfraError(f"the lab's module loads ended with status {ran.exit_status}: "
                             + " / ".join(lines[-3:]))
        proofs = []
        for index, (module, predicted) in enumerate(zip(modules, predictions)):
            key = out / f"m{index}"
            rc_file = key.with_suffix(".rc")
            if not rc_file.is_file():
                raise InfraError(f"the lab guest did not load {module.path}")
            loaded = rc_file.read_text().strip() == "0"
            kernel_lines = _after_mark(key.with_suffix(".dmesg").read_text(errors="replace"),
                                       key.name)
            agrees = loaded == predicted.loads and (loaded or predicted.first in kernel_lines)
            proofs.append(Proof(module.name, ran.kernel, loaded, agrees,
                                key.with_suffix(".insmod").read_text(errors="replace").strip(),
                                kernel_lines))
        return proofs
    finally:
        shutil.rmtree(work, ignore_errors=True)

