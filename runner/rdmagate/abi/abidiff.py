"""libabigail's abidiff on each library pair, as a second opinion.

On Debian's stripped libraries abidiff compares ELF symbols and versions
only. Its exit code is the stable part of its output (a bit field: 1 error,
2 usage, 4 ABI change, 8 incompatible change); its text is kept as evidence."""
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import tools
from ..errors import InfraError
from ..stacks import elf
from .findings import Finding

ERROR, USAGE, CHANGE, INCOMPATIBLE = 1, 2, 4, 8
# abidiff's summary lines: "Functions changes summary: 0 Removed, 1 Changed
# (2 filtered out), 3 Added functions", and the same for variables, symbols
# not referenced by debug info and unreachable types
_SUMMARY = re.compile(r"summary: (\d+) removed(?:, (\d+) changed)?", re.I)
# a type abidiff lists as changed or removed: "  [C] 'struct ibv_wc' changed:"
_TYPE_ENTRY = re.compile(r"^\s*\[([CD])\] '(struct|union|enum) (\w+)'", re.M)


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


def run(library: str, old: Path, new: Path, suppressions: Sequence[Path] = (),
        all_types: bool = False) -> AbidiffRun:
    """abidiff of two libraries, or (all_types) of two header corpora, where
    no type is reachable from an exported function."""
    if shutil.which("abidiff") is None:
        raise InfraError("abidiff is not installed (abigail-tools): run ci/setup")
    argv = ["abidiff", "--no-show-locs"] + (["--non-reachable-types"] if all_types else [])
    for path in suppressions:
        argv += ["--suppressions", str(path)]
    done = tools.run(argv + [str(old), str(new)], tools.COMPILE, what=f"abidiff of {library}")
    if done.returncode & (ERROR | USAGE):
        raise InfraError(f"abidiff failed on {library} ({old} vs {new}): "
                         f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    typed = not all_types and all(elf.has_debug_info(p) for p in (old, new))
    return AbidiffRun(library, done.returncode, done.stdout, typed)


def cross_check(runs: list[AbidiffRun], findings: list[Finding],
                public: set[str] | None = None) -> list[Finding]:
    """abidiff saw an incompatible change where rdmagate found nothing that
    breaks: never let that pass silently. public: the types the public
    headers define (None: not known); a library's other types (opaque in
    the headers, internal) are not the applications' to review."""
    breaking = {f.library for f in findings if f.severity == "breaking"}
    found = [Finding(r.library, "unclassified incompatible change", "review", "applications",
                     "abidiff reports an incompatible change that rdmagate did not classify; "
                     "see abidiff/" + r.library + ".txt")
             for r in runs if r.incompatible and r.library not in breaking]
    # Libraries with debug info (a local build in a prefix): abidiff compared
    # their real types, which the header corpus may not show (private structs).
    # Each type it says changed is reconciled with rdmagate's own findings;
    # only what none of them covers is left to review.
    for r in runs:
        if not r.typed or not r.status & CHANGE or r.incompatible or r.only_additions:
            continue
        left = sorted(f"{kind} {name}" for kind, name in changed_types(r.report)
                      if (public is None or name in public) and not _covered(name, kind, findings))
        if left or not changed_types(r.report):
            found.append(Finding(r.library, "library types changed", "review", "applications",
                                 "abidiff compared this library's own types (it has debug "
                                 "info) and reports changes rdmagate did not classify"
                                 + (f" ({', '.join(left)})" if left else "")
                                 + ": see abidiff/" + r.library + ".txt"))
    return found


# a line of abidiff's report that names the type the lines below it are about
_TYPE_CONTEXT = re.compile(r"'(struct|union|enum) (\w+)'[^']*:$")
# a line that says what changed in the type it is under (not a way down to another)
_DIRECT_CHANGE = re.compile(r"type size changed|data member (?:insertion|deletion)|"
                            r"offset changed|enumerator (?:insertion|deletion|change)|"
                            r"type name changed|'\w[^']*' was (?:added|removed)|"
                            r"data members? replaced|anonymous data member|"
                            # a member retyped or renamed: uint8_t reserved[2] carved
                            # into uint16_t inline_buf_size_ex (efadv_device_attr)
                            r"entity changed from|name of '[^']*' changed to")


def changed_types(report: str) -> set[tuple[str, str]]:
    """(kind, name) of each type abidiff's report says changed itself, not
    only through a type it reaches: ops in `in pointed to type 'struct
    ops': ... offset changed`, not the ctx that points to it."""
    found: set[tuple[str, str]] = set()
    context: list = []   # (indent, (kind, name)) of the types around the line
    for line in report.splitlines():
        indent = len(line) - len(line.lstrip())
        while context and context[-1][0] >= indent:
            context.pop()
        named = _TYPE_CONTEXT.search(line.strip())
        if named:
            context.append((indent, named.groups()))
        elif context and _DIRECT_CHANGE.search(line):
            found.add(context[-1][1])
    return found


def _covered(name: str, kind: str, findings: list[Finding]) -> bool:
    """A finding of rdmagate is about this type: on it or one of its members,
    or naming it in its words."""
    return any(f.symbol.split(".", 1)[0] == name or
               re.search(rf"\b{kind} {re.escape(name)}\b", f.detail) for f in findings)


def reconcile(run: AbidiffRun, findings: list[Finding], old_types: set[str],
              new_types: set[str], same_layout: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    """abidiff's opinion of the header corpus against rdmagate's. A public
    type (one the corpora hold) abidiff lists as changed is reconciled when
    rdmagate has a finding on it or on a type its entry names (verbs_context
    changes when the ibv_port_attr its query_port takes grows); as removed,
    when rdmagate says it is gone, or it is still declared (then abidiff's
    corpus is wrong, said as info); as changed with the same layout
    (same_layout), said as info. What is left needs a look. System and
    anonymous types are not rdmagate's to judge."""
    known = old_types | new_types

    found = []
    entries = list(_TYPE_ENTRY.finditer(run.report))
    for i, entry in enumerate(entries):
        mark, kind, name = entry.groups()
        if name not in old_types or name.startswith("__anonymous"):
            continue
        end = entries[i + 1].start() if i + 1 < len(entries) else len(run.report)
        text = run.report[entry.start():end]
        # abidiff names a member's type without its keyword ('ibv_wc_opcode
        # opcode'): a public type named so counts too, of whatever kind
        named = set(re.findall(r"\b(struct|union|enum) (\w+)", text)) | \
            {("(?:struct|union|enum)", n) for n in re.findall(r"'(\w+)\W", text) if n in known}
        if any(_covered(n, k, findings) for k, n in named):
            continue
        if mark == "D" and name in new_types:
            found.append(Finding("headers", "abidiff disagrees", "info", "applications",
                                 f"abidiff reports {kind} {name} removed, but the new headers "
                                 "declare it with the same members and offsets", name))
            continue
        if mark == "C" and name in same_layout:
            found.append(Finding("headers", "abidiff disagrees", "info", "applications",
                                 f"abidiff reports {kind} {name} changed, but every member keeps "
                                 "its offset and width and the size is the same (a spelling "
                                 "such as uint8_t reserved[1] -> uint8_t reserved)", name))
            continue
        what = "changed" if mark == "C" else "removed"
        found.append(Finding("headers", "unreconciled abidiff change", "review", "applications",
                             f"abidiff reports {kind} {name} {what}; rdmagate found no change "
                             "it classifies: see abidiff/headers.txt", name))
    return found
