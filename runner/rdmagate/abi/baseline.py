"""ABI baselines: a stack's ABI kept in the repository (baselines/abi/NAME/),
so a comparison needs no download of that stack.

    inventory.json   the symbol inventory (rdmagate stacks show --json)
    headers.abi      abidw's corpus of the stack's public header types
    knowledge.txt    what the headers' code says of each struct
    prototypes.txt   the functions the headers declare, with their signatures
    lib/NAME.abi     abidw's corpus of each library (symbols: Debian strips them)
    meta.json        the stack's packages, the abidw version and ABIXML format

A corpus written by one abidw may not load in another, so a baseline made
with another abidw version than the one installed is not used."""
import datetime
import json
import os
import re
import shutil
from pathlib import Path

from .. import files, tools
from ..errors import InfraError, UsageError
from ..paths import REPO_ROOT, within
from ..stacks import fetch, glibc, inventory, resolve
from . import headers

FILES = ("inventory.json", "headers.abi", "knowledge.txt", "prototypes.txt", "meta.json")


def root() -> Path:
    return Path(os.environ.get("RDMAGATE_BASELINES", REPO_ROOT / "baselines")) / "abi"


def _format_version(corpus: Path) -> str:
    head = corpus.read_text(errors="replace")[:400]
    match = re.search(r"version='([\d.]+)'", head)
    return match.group(1) if match else "unknown"


def record(stack_name: str, say=lambda text: None) -> Path:
    stack = resolve(stack_name)
    tree = fetch(stack, say=say, with_rootfs=False)
    inv = inventory(tree)
    dest = within(root(), stack.name)   # a prefix: name holds '/' and maybe '..'
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "lib").mkdir(parents=True)
    corpus = headers.of_stack(tree, partial)
    if corpus is None:
        raise UsageError(f"stack {stack.name} has no public headers to record")
    if corpus[0] != partial / "headers.abi":
        shutil.copy2(corpus[0], partial / "headers.abi")
        for name in ("knowledge.txt", "prototypes.txt"):
            shutil.copy2(corpus[0].parent / name, partial / name)
    for name, lib in inv["libraries"].items():
        if lib:
            # run in the stack's root, so the corpus names the library as installed
            done = tools.run(["abidw", "--out-file",
                              str((partial / "lib" / f"{name}.abi").resolve()), lib["file"]],
                             tools.COMPILE, cwd=tree.root)
            if done.returncode != 0:
                raise InfraError(f"abidw failed on {lib['file']}: {done.stderr.strip()}")
    (partial / "inventory.json").write_text(json.dumps(_portable(inv), indent=1, sort_keys=True)
                                            + "\n")
    meta = {"stack": stack.name, "packages": [list(p) for p in stack.packages],
            "abidw_version": headers.abidw_version(),
            "abixml_version": _format_version(partial / "headers.abi"),
            "recorded": datetime.date.today().isoformat()}
    (partial / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)
    return dest


def _portable(inv: dict) -> dict:
    """The inventory without this machine's paths (the cache, the checkout),
    so a baseline recorded again on another machine changes only where the
    stack did."""
    stack = dict(inv["stack"])
    if stack.get("manifest"):
        manifest = Path(stack["manifest"])
        stack["manifest"] = str(manifest.relative_to(REPO_ROOT)) \
            if manifest.is_relative_to(REPO_ROOT) else manifest.name
    return dict(inv, stack=stack, root=".", rootfs=None)


def load(stack) -> dict | None:
    """The baseline of a stack, or None when there is none for this abidw and
    these exact packages. A baseline that is there but does not parse is an
    error, never 'no changes'."""
    stack_name = stack.name
    directory = within(root(), stack_name)
    if not directory.is_dir():
        return None
    for name in FILES:
        if not (directory / name).is_file():
            raise UsageError(f"{directory / name}: missing from the baseline of {stack_name} "
                             f"(record it again: rdmagate baseline record --stack {stack_name})")
    try:
        meta = json.loads(files.read_text(directory / "meta.json", "a baseline's meta.json"))
        inv = json.loads(files.read_text(directory / "inventory.json", "a baseline's inventory"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if not isinstance(inv.get("libraries"), dict) or "providers" not in inv:
            raise ValueError("no libraries or providers")
    except (ValueError, AttributeError, RecursionError) as err:
        bad = "meta.json" if "meta" not in locals() else "inventory.json"
        raise UsageError(f"{directory / bad}: corrupt baseline ({err})") from None
    _floors(directory / "inventory.json", inv)
    if meta.get("abidw_version") != headers.abidw_version() or \
            [tuple(p) for p in meta.get("packages", [])] != list(stack.packages):
        return None  # another tool, or another package set: not this stack's ABI
    # A library whose corpus is missing or cut short would lose its abidiff
    # check and pass with exit 0: refused instead.
    _whole(directory / "headers.abi", stack_name)
    for name, lib in inv["libraries"].items():
        if lib:
            _whole(directory / "lib" / f"{name}.abi", stack_name)
    knowledge = headers.read_knowledge(directory / "knowledge.txt")
    libs = {p.stem: p for p in (directory / "lib").glob("*.abi")}
    return {"inventory": inv, "headers": (directory / "headers.abi", knowledge), "libs": libs,
            "meta": meta, "dir": directory}


def _floors(path: Path, inv: dict) -> None:
    """Every C library floor of the inventory is a glibc version or null: one
    that is not compares as nothing, and its finding is lost."""
    entries = [("", inv)] + [(f"{kind}.{name}.", entry)
                             for kind in ("libraries", "providers")
                             if isinstance(inv.get(kind), dict)
                             for name, entry in inv[kind].items()]
    for where, entry in entries:
        floor = entry.get("glibc_floor") if isinstance(entry, dict) else None
        if floor is not None and not (isinstance(floor, str) and glibc.VERSION.fullmatch(floor)):
            raise UsageError(f"{path}: field {where}glibc_floor: {json.dumps(floor)[:40]} is "
                             "not a glibc version (2.34) or null")


def _whole(corpus: Path, stack_name: str) -> None:
    """A corpus abidw wrote to its end (its closing element is last)."""
    again = f"record it again: rdmagate baseline record --stack {stack_name}"
    if not corpus.exists():
        raise UsageError(f"{corpus}: missing from the baseline of {stack_name} ({again})")
    try:
        with files.open_regular(corpus, "an abidw corpus") as file:   # never a FIFO's read
            head = file.read(16)
            file.seek(max(0, file.seek(0, os.SEEK_END) - 64))
            tail = file.read().rstrip()
    except OSError as err:
        raise UsageError(f"{corpus}: cannot read it ({err.strerror}; {again})") from None
    if not head.startswith(b"<abi-corpus") or not tail.endswith((b"</abi-corpus>",
                                                                  b"</abi-corpus-group>")):
        raise UsageError(f"{corpus}: truncated or not an abidw corpus ({again})")
