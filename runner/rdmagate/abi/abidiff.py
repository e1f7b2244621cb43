"""libabigail's abidiff on each library pair, as a second opinion.

On Debian's stripped libraries abidiff compares ELF symbols and versions
only. Its exit code is the stable part of its output (a bit field: 1 error,
2 usage, 4 ABI change, 8 incompatible change); its text is kept as evidence."""
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import InfraError
from ..stacks import elf
from .findings import Finding

ERROR, USAGE, CHANGE, INCOMPATIBLE = 1, 2, 4, 8
# abidiff's summary lines: "Functions changes summary: 0 Removed, 1 Changed
# (2 filtered out), 3 Added functions", and the same for variables, symbols
# not referenced by debug info and unreachable types
_SUMMARY = re.compile(r"summary: (\d+) removed(?:, (\d+) changed)?", re.I)


@dataclass
class AbidiffRun:
    library: str
    status: int
    report: str
    typed: bool = False     # both sides had debug info: abidiff compared types

    @property
    def incompatible(self) -> bool:
        return bool(self.status & INCOMPATIBLE)

    @property
    def only_additions(self) -> bool:
        """Its report lists things added and nothing removed or changed."""
        counts = [int(n or 0) for match in _SUMMARY.findall(self.report) for n in match]
        return bool(self.status & CHANGE) and not any(counts)


def run(library: str, old: Path, new: Path, suppressions: list[Path] = (),
        all_types: bool = False) -> AbidiffRun:
    """abidiff of two libraries, or (all_types) of two header corpora, where
    no type is reachable from an exported function."""
    if shutil.which("abidiff") is None:
        raise InfraError("abidiff is not installed (abigail-tools): run ci/setup")
    argv = ["abidiff", "--no-show-locs"] + (["--non-reachable-types"] if all_types else [])
    for path in suppressions:
        argv += ["--suppressions", str(path)]
    done = subprocess.run(argv + [str(old), str(new)], capture_output=True, text=True, check=False)
    if done.returncode & (ERROR | USAGE):
        raise InfraError(f"abidiff failed on {library} ({old} vs {new}): "
                         f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    typed = not all_types and all(elf.has_debug_info(p) for p in (old, new))
    return AbidiffRun(library, done.returncode, done.stdout, typed)


def cross_check(runs: list[AbidiffRun], findings: list[Finding]) -> list[Finding]:
    """abidiff saw an incompatible change where rdmagate found nothing that
    breaks: never let that pass silently."""
    breaking = {f.library for f in findings if f.severity == "breaking"}
    found = [Finding(r.library, "unclassified incompatible change", "review", "applications",
                     "abidiff reports an incompatible change that rdmagate did not classify; "
                     "see abidiff/" + r.library + ".txt")
             for r in runs if r.incompatible and r.library not in breaking]
    # Libraries with debug info (a local build in a prefix): abidiff compared
    # their real types, which the header corpus may not show (private structs).
    found += [Finding(r.library, "library types changed", "review", "applications",
                      "abidiff compared this library's own types (it has debug info) and "
                      "reports changes: see abidiff/" + r.library + ".txt")
              for r in runs if r.typed and r.status & CHANGE and not r.incompatible
              and not r.only_additions]
    return found
