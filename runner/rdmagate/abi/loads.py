"""Providers really loaded: every provider of one stack opened with another
stack's libibverbs, as libibverbs opens them, and the result set beside what
the static rules predicted.

For a pair A -> B: A's providers with B's libibverbs (the upgrade: a
provider left behind, an out-of-tree one), B's with A's (a downgrade), and
with --providers DIR a vendor's own provider files with B's. The names come
from the stack's configuration directory (etc/libibverbs.d/*.driver, `driver
NAME`) and its provider files; each file is opened with RTLD_NOW in a root
whose C library can run both sides (the libibverbs' own root first).

The prediction is the static rule of the abi findings for a binary bound to
libibverbs (consumers.check: every version node and symbol@version it
imports must be in the new library) plus the C library floor; a load that
disagrees with it is an error of rdmagate, never a finding."""
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..errors import UsageError
from ..outputs import records
from ..stacks import FetchedStack, elf, glibc, inventory as stack_inventory, layout
from . import consumers, loader

# libibverbs builds each provider's file name from this format, compiled in
# (rdma-core's "lib%s" IBVERBS_PROVIDER_SUFFIX).
OPENS = re.compile(rb"lib%s-rdmav\d+\.so")


@dataclass
class ProviderLoad:
    provider: str          # the driver name (mlx5)
    file: str              # the file opened
    named: bool            # the loading libibverbs opens this file name itself
    loaded: bool
    message: str           # the dynamic loader's words when not loaded
    predicted: str         # "loads", or "fails: why" (the static rule)
    agrees: bool


@dataclass
class LoadRun:
    direction: str         # upgrade, downgrade, vendor
    providers_of: str      # a stack, or the --providers directory
    libibverbs_of: str
    libibverbs: str        # the file loaded first
    opens: str             # the file name the libibverbs opens: lib%s-rdmavNN.so
    root: str              # the root whose ld.so and C library ran the loads
    loads: list[ProviderLoad] = field(default_factory=list)
    skipped: str | None = None   # why nothing was loaded

    @property
    def disagreements(self) -> list[ProviderLoad]:
        return [p for p in self.loads if not p.agrees]


FORMAT = 1


@dataclass
class LoadsFile:
    """providers.json: written by `rdmagate abi`."""
    old: str = field(metadata={"key": "from"})
    new: str = field(metadata={"key": "to"})
    runs: list[LoadRun]
    format: int = FORMAT


def write(found: LoadsFile, path: Path) -> None:
    records.write(found, path)


def load_file(path: Path) -> LoadsFile:
    return records.load(LoadsFile, path, "a provider load file (providers.json)")


@dataclass
class Side:
    """What a load needs of a stack: its tree, inventory and runnable root."""
    name: str
    fetched: FetchedStack
    inventory: dict

    @property
    def libibverbs(self) -> Path:
        return self.fetched.root / self.inventory["libraries"]["libibverbs"]["file"]

    def own_root(self) -> Path | None:
        """Where this stack's binaries run: the host, or its root file system."""
        return self.fetched.rootfs if self.fetched.needs_rootfs else Path("/")


def side(fetched) -> Side:
    return Side(fetched.stack.name, fetched, stack_inventory(fetched))


def opens(libibverbs: Path) -> str:
    """The provider file name a libibverbs opens (lib%s-rdmavNN.so), read
    from the binary as it is compiled in."""
    found = OPENS.search(files.read_bytes(libibverbs, "libibverbs", files.MAX_BINARY_BYTES))
    return found.group(0).decode() if found else "lib%s-rdmav?.so"


def provider_files(of: Side) -> list[tuple[str, Path]]:
    """(driver name, provider file) as libibverbs finds them: each `driver NAME`
    of the configuration, and every provider file of the stack."""
    directory = of.fetched.root / of.inventory["provider_dir"]
    pabi = {p["file_abi"] for p in of.inventory["providers"].values() if p["file_abi"]}
    suffix = f"rdmav{max(pabi)}" if pabi else "rdmav?"
    # the name in the provider directory (often a link to libNAME.so.1.x)
    found = {name: directory / f"lib{name}-rdmav{p['file_abi']}.so"
             for name, p in of.inventory["providers"].items()}
    for name in of.inventory["drivers"]:
        found.setdefault(name, directory / f"lib{name}-{suffix}.so")
    return sorted(found.items())


def vendor_files(directory: Path) -> list[tuple[str, Path]]:
    """--providers DIR: its provider files (lib<name>-rdmav<NN>.so, or any
    shared object there)."""
    if not directory.is_dir():
        raise UsageError(f"--providers {directory}: not a directory")
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix != ".so":
            continue
        if path.exists():   # a FIFO would hang the read, a device never end: refused
            files.check_regular(path, "a provider")
        if not elf.is_elf(path):
            continue
        match = layout.PROVIDER_FILE.match(path.name)
        found.append((match.group("name") if match else path.stem.removeprefix("lib"), path))
    if not found:
        raise UsageError(f"--providers {directory}: no provider files in it "
                         "(lib<name>-rdmav<NN>.so)")
    return found


def predict(provider: Path, target: dict, root_libc: str | None) -> str:
    """The static rule's answer for one provider file: "loads" or "fails: why"."""
    if not provider.exists():
        return f"fails to load: no file {provider.name}"
    info = elf.read_elf(provider)
    impact = consumers.check(info, target, provider.name)
    floor = glibc.highest(info.version_needs.get("libc.so.6", []))
    if floor and root_libc and glibc.newer(floor, root_libc):
        return f"fails to load: needs GLIBC_{floor}, the root has {root_libc}"
    if impact is None:
        return "fails to load: it does not link libibverbs"
    if impact.verdict == "ok":
        return "loads"
    missing = impact.missing_libraries + impact.missing_versions + impact.missing_symbols
    return f"{impact.verdict}: missing {', '.join(missing[:5])}"


def choose_root(candidates: list[Path | None], floor: str | None) -> Path | None:
    """The first root whose C library is at least floor."""
    for root in candidates:
        if root is None:
            continue
        have = loader.root_glibc(root)
        if floor is None or (have and not glibc.newer(floor, have)):
            return root
    return None


def _floor(files: list[Path]) -> str | None:
    needs = (elf.read_elf(f).version_needs.get("libc.so.6", []) for f in files if f.exists())
    floors = [f for f in map(glibc.highest, needs) if f]
    return max(floors, key=glibc.parse) if floors else None


def run(direction: str, files: list[tuple[str, Path]], providers_of: str, target: Side,
        fallback_roots: list[Path | None], extra_path: Sequence[Path] = ()) -> LoadRun:
    """Load files with target's libibverbs, in target's root or else the first
    fallback root whose C library runs them both."""
    libibverbs = target.libibverbs
    pattern = opens(libibverbs)
    out = LoadRun(direction, providers_of, target.name, str(libibverbs), pattern, "")
    floor = _floor([libibverbs] + [f for _, f in files])
    root = choose_root([target.own_root(), *fallback_roots], floor)
    if root is None:
        out.skipped = (f"no root file system with glibc {floor} or newer to run them in "
                       f"(rdmagate stacks fetch {target.name} builds {target.name}'s)")
        return out
    out.root = str(root)
    if not files:
        return out
    exports = consumers.target_exports(target.inventory)
    libc = loader.root_glibc(root)
    # a driver whose file is missing is tried too: the loader's own words
    results = loader.load(loader.build(), root, libibverbs, [path for _, path in files],
                          [libibverbs.parent, *extra_path])
    for (name, path), got in zip(files, results):
        predicted = predict(path, exports, libc)
        out.loads.append(ProviderLoad(name, str(path), path.name == pattern % name,
                                      got.loaded, got.message, predicted,
                                      (predicted == "loads") == got.loaded))
    return out


def matrix(old: Side, new: Side, vendor_dir: Path | None = None) -> list[LoadRun]:
    """The upgrade and the downgrade of a pair; a vendor's providers on new."""
    runs = [run("upgrade", provider_files(old), old.name, new, [old.own_root()]),
            run("downgrade", provider_files(new), new.name, old, [new.own_root()])]
    if vendor_dir is not None:
        runs.append(run("vendor", vendor_files(vendor_dir), str(vendor_dir), new,
                        [old.own_root()], [vendor_dir]))
    return runs


def not_loaded(old: str, new: str, why: str) -> list[LoadRun]:
    """The runs of a pair that could not be loaded, each with the reason."""
    return [LoadRun(direction, a, b, "", "", "", skipped=why)
            for direction, a, b in (("upgrade", old, new), ("downgrade", new, old))]


def findings_disagree(runs: list[LoadRun], findings) -> list[str]:
    """Where the upgrade's loads and the abi findings for providers tell two
    stories: a provider of the old stack that does not load while no finding
    breaks providers, or every one loading while the private ABI is said to
    have changed."""
    problems = []
    breaks = any(f.audience == "providers" and f.severity == "breaking" for f in findings)
    private = any(f.kind == "private ABI changed" for f in findings)
    for load_run in runs:
        if load_run.direction != "upgrade" or not load_run.loads:
            continue
        failed = [p.provider for p in load_run.loads if not p.loaded]
        if failed and not breaks:
            problems.append(f"{', '.join(failed)} of {load_run.providers_of} do not load with "
                            f"{load_run.libibverbs_of}'s libibverbs, but no finding breaks "
                            "providers")
        if not failed and private:
            problems.append(f"every provider of {load_run.providers_of} loads with "
                            f"{load_run.libibverbs_of}'s libibverbs, but the findings say the "
                            "private ABI changed")
    return problems


def problems(runs: list[LoadRun], findings) -> list[str]:
    """Every disagreement of the loads with the static rules and findings."""
    found = [f"{run.direction}: {p.provider} ({p.file}) "
             + ("loaded" if p.loaded else f"did not load: {p.message}")
             + f", but the static rules say {p.predicted}"
             for run in runs for p in run.disagreements]
    return found + findings_disagree(runs, findings)


def reason(message: str) -> str:
    """The dynamic loader's words without the file paths it names."""
    if message.startswith("/") and ": " in message:
        message = message.split(": ", 1)[1]
    return message.split(" (required by ", 1)[0]


def summary(runs: list[LoadRun]) -> str:
    """One phrase: how many providers loaded in each direction."""
    return ", ".join(f"{r.direction} {sum(p.loaded for p in r.loads)}/{len(r.loads)}"
                     if not r.skipped else f"{r.direction} not loaded" for r in runs)
