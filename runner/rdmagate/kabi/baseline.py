"""kABI baselines: baselines/kabi/<stack>/ keeps the RDMA part of the stack's
Module.symvers (symvers.rdma, the kernel's own format) and its kernel facts
(facts.json: release, vermagic, struct module size, config, the headers
packages), so `kabi --from debian-12` needs no download."""
import json
import os
import shutil
from pathlib import Path

from .. import files
from ..errors import UsageError
from ..paths import REPO_ROOT, within
from . import symvers

FILES = ("symvers.rdma", "facts.json")


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
    try:
        facts = json.loads(files.read_text(directory / "facts.json", "a kabi baseline's facts"))
        if not isinstance(facts, dict) or not isinstance(facts.get("release"), str):
            raise ValueError("no release")
    except (ValueError, RecursionError) as err:
        raise UsageError(f"{directory / 'facts.json'}: corrupt kABI baseline ({err})") from None
    packages = [[p["name"], p["version"]] for p in stack.kernel["headers"]]
    if facts.get("packages") != packages:
        return None
    return symvers.read(directory / "symvers.rdma"), facts, directory
