"""kABI baselines: baselines/kabi/<stack>/ keeps the RDMA part of the stack's
Module.symvers (symvers.rdma, the kernel's own format) and its kernel facts
(facts.json: release, vermagic, struct module size, config, the headers
packages), so `kabi --from debian-12` needs no download."""
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from .. import files
from ..errors import UsageError
from ..outputs import records
from ..outputs.records import Range
from ..paths import REPO_ROOT, within
from . import symvers

FILES = ("symvers.rdma", "facts.json")


@dataclass
class Facts:
    """facts.json, each field checked when read (kabi reads it as a dict):
    a config option true instead of "y" once read as off."""
    release: records.Name
    vermagic: str
    this_module_size: Annotated[int, Range(1, 1 << 20)]     # sizeof(struct module)
    config: dict[str, Literal["y", "m", "n"]]               # .config, an option not set: n
    exports_total: Annotated[int, Range(0, 1 << 24)]
    packages: list[list[str]]                               # [name, version] of the headers
    btf_vmlinux: bool = False
    module_layout_crc: Annotated[int, Range(0, 0xFFFFFFFF)] | None = None


def root() -> Path:
    return Path(os.environ.get("RDMAGATE_BASELINES", REPO_ROOT / "baselines")) / "kabi"


def record(side) -> Path:
    dest = within(root(), side.stack)
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "symvers.rdma").write_text(symvers.write(symvers.area(side.exports, "rdma")))
    (partial / "facts.json").write_text(json.dumps(side.facts, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return dest


def load(stack) -> tuple[dict, dict, Path] | None:
    """(RDMA exports, facts, directory), or None when there is no baseline of
    these exact headers packages. A baseline that does not parse is an error."""
    directory = within(root(), stack.name)
    if not directory.is_dir():
        return None
    for name in FILES:
        if not (directory / name).is_file():
            raise UsageError(f"{directory / name}: missing from the kABI baseline of "
                             f"{stack.name} (record it again: rdmagate baseline record "
                             f"--stack {stack.name} --suite kabi)")
    path = directory / "facts.json"
    try:
        facts = json.loads(files.read_text(path, "a kABI baseline's facts.json"))
        records.from_json(Facts, facts)
    except (ValueError, RecursionError, records.Mismatch) as err:
        raise UsageError(f"{path}: corrupt kABI baseline ({err})") from None
    packages = [[p["name"], p["version"]] for p in stack.kernel["headers"]]
    if facts.get("packages") != packages:
        return None
    return symvers.read(directory / "symvers.rdma"), facts, directory
