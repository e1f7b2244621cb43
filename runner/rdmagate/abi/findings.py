"""A finding: one ABI change between two stacks, with who it hurts; and
findings.json, every finding of one comparison with its verdicts."""
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, get_args

from ..outputs import records
from ..outputs.audience import AudienceVerdict
from .consumers import Impact

Severity = Literal["breaking", "review", "benign", "info"]   # worst first
SEVERITIES = get_args(Severity)
Audience = Literal["applications", "providers", "build"]
AUDIENCES = get_args(Audience)
# a kernel-side finding (kabi) is for the owners of out-of-tree modules
Who = Literal[Audience, "kernel modules"]
WHO = get_args(Who)


@dataclass(frozen=True)
class Finding:
    library: str
    kind: str            # symbol removed, version node removed, private ABI changed, ...
    severity: Severity
    audience: Who
    detail: str
    symbol: str = ""
    version: str = ""
    cause: str = ""      # the root cause it is part of (causes.py): one change, its consequences
    line: int = 0        # the line of its declaration in the header `library` names, if known

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Suppressed(Finding):
    suppressed_by: str = ""    # the suppression file and line of the rule


FORMAT = 1


@dataclass
class FindingsFile:
    """findings.json: written by `rdmagate abi`, the abi suite of check and
    the gate's abi phase."""
    old: dict[str, str | None] = field(metadata={"key": "from"})   # the inventory's stack
    new: dict[str, str | None] = field(metadata={"key": "to"})
    verdicts: dict[str, AudienceVerdict]     # per audience
    sources: list[str]                       # where each side came from: a tree, a baseline
    abidiff: dict[str, int]                  # library -> abidiff's exit status (bits)
    consumers: list[Impact]
    suppressed: list[Suppressed]
    findings: list[Finding]
    format: int = FORMAT


def write(found: FindingsFile, path: Path) -> None:
    records.write(found, path)


def load(path: Path) -> FindingsFile:
    return records.load(FindingsFile, path, "an ABI findings file (findings.json)")


def rank(finding: Finding) -> tuple:
    return (SEVERITIES.index(finding.severity), WHO.index(finding.audience),
            finding.library, finding.symbol)


def verdicts(findings: list[Finding]) -> dict[str, dict]:
    """Per audience: the worst severity and the count of each severity."""
    out = {}
    for audience in AUDIENCES:
        mine = [f for f in findings if f.audience == audience]
        counts = {s: sum(1 for f in mine if f.severity == s) for s in SEVERITIES}
        worst = next((s for s in SEVERITIES if counts[s]), None)
        verdict = {"breaking": "BREAKS", "review": "NEEDS REVIEW"}.get(worst or "", "OK")
        out[audience] = {"verdict": verdict, "counts": counts}
    return out


def of_consumers(impacts: list[Impact]) -> list[Finding]:
    """Consumers that would break, as findings for applications."""
    def audience(impact: Impact) -> Audience:
        # who the consumer is (a file named or registering as a provider),
        # not what it imports: an application may import a private symbol
        return "providers" if impact.provider else "applications"
    found = [Finding(i.consumer, f"consumer {i.verdict}", "breaking", audience(i),
                     "missing: " + ", ".join(i.missing_libraries + i.missing_versions
                                             + i.missing_symbols[:10]))
             for i in impacts if i.verdict in ("fails to load", "fails to resolve")]
    # it loads, and calls a function whose signature changed: a private one
    # (the consumer is a provider) breaks, a public one needs review
    for i in impacts:
        if i.verdict == "loads with changed signatures":
            private = any("_PRIVATE_" in s for s in i.changed_signatures)
            found.append(Finding(i.consumer, "consumer calls changed functions",
                                 "breaking" if private else "review", audience(i),
                                 "loads, but these changed signature under the same version: "
                                 + ", ".join(i.changed_signatures[:10])))
    return found
