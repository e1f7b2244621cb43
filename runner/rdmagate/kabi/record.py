"""kabi.json, the kernel side of an upgrade A to B, typed: written by
`rdmagate kabi` and by the gate's kabi phase through this one definition;
upgrade.json keeps a part of it (Section)."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..abi import causes
from ..abi.findings import Finding
from ..outputs import records
from ..outputs.audience import AudienceVerdict
from .lab import Proof
from .predict import INSMOD_WORDS, Prediction

FORMAT = 1
WHAT = "a kernel interface record (kabi.json)"


@dataclass
class Summary:
    exports_compared: int           # the area's exports of A
    by_kind: dict[str, int]         # exports per kind of change


@dataclass
class Module:
    """A given module's predicted load on B (predict.Prediction, with what
    insmod would print)."""
    module: str
    path: str
    kernel: str
    loads: bool
    check: str                      # the check that refuses it, or ""
    messages: list[str]             # the kernel's lines, in order
    error: int                      # what init_module returns (negative errno)
    insmod: str

    @classmethod
    def of(cls, p: Prediction) -> "Module":
        return cls(p.module, p.path, p.kernel, p.loads, p.check, list(p.messages), p.error,
                   INSMOD_WORDS.get(-p.error, ""))


@dataclass
class KabiFile:
    old: dict[str, Any] = field(metadata={"key": "from"})   # stack, source, the kernel's facts
    new: dict[str, Any] = field(metadata={"key": "to"})
    area: str                       # rdma or all
    verdict: AudienceVerdict
    summary: Summary
    findings: list[Finding]
    modules: list[Module]
    proofs: list[Proof]             # in the order of the modules (lab only)
    format: int = FORMAT

    def section(self, given: bool, releases: list[str]) -> "Section":
        """What upgrade.json keeps: the kernel-level findings, not each export's."""
        return Section(self.verdict, self.summary, self.modules, self.proofs, given,
                       releases, [f for f in self.findings if not f.symbol],
                       [f.symbol for f in self.findings if f.kind == "export removed"])


def of(report) -> KabiFile:
    """kabi.json of a compare.KabiReport."""
    return KabiFile({"stack": report.old.stack, "source": report.old.source,
                     **report.old.facts},
                    {"stack": report.new.stack, "source": report.new.source,
                     **report.new.facts},
                    report.area, report.verdict, Summary(**report.summary()),
                    causes.assign(report.findings), [Module.of(m) for m in report.modules],
                    list(report.proofs))


@dataclass
class Section:
    """upgrade.json's kabi: the part of kabi.json the verdict and the report read."""
    verdict: AudienceVerdict
    summary: Summary
    modules: list[Module]
    proofs: list[Proof]
    given: bool                     # modules were named to check
    releases: list[str]             # [A's kernel, B's kernel]
    kernel: list[Finding]           # the kernel-level findings (no export's)
    removed: list[str] = field(default_factory=list)   # exports B no longer has, named first


def write(found: KabiFile, path: Path) -> None:
    records.write(found, path)


def load(path: Path) -> KabiFile:
    return records.load(KabiFile, path, WHAT)
