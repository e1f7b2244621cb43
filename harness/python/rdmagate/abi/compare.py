"""The ABI of stack A against stack B: findings, abidiff's opinion, verdicts."""
from dataclasses import dataclass, field
from pathlib import Path

from ..stacks import fetch, inventory, resolve
from . import abidiff, symbols
from .findings import Finding, rank, verdicts


@dataclass
class AbiReport:
    old: dict                      # inventories
    new: dict
    findings: list[Finding]
    abidiff_runs: list = field(default_factory=list)

    @property
    def verdicts(self) -> dict:
        return verdicts(self.findings)

    def as_dict(self) -> dict:
        return {"from": self.old["stack"], "to": self.new["stack"], "verdicts": self.verdicts,
                "abidiff": {r.library: r.status for r in self.abidiff_runs},
                "findings": [f.as_dict() for f in self.findings]}


def compare_stacks(old_name: str, new_name: str, suppressions: list[Path] = (),
                   say=lambda text: None) -> AbiReport:
    trees = [fetch(resolve(name), say=say, with_rootfs=False) for name in (old_name, new_name)]
    old, new = (inventory(tree) for tree in trees)
    findings = symbols.compare(old, new)
    runs = []
    for name in sorted(set(old["libraries"]) & set(new["libraries"])):
        if old["libraries"][name] and new["libraries"][name]:
            runs.append(abidiff.run(name, trees[0].root / old["libraries"][name]["file"],
                                    trees[1].root / new["libraries"][name]["file"],
                                    suppressions))
    findings += abidiff.cross_check(runs, findings)
    return AbiReport(old, new, sorted(findings, key=rank), runs)
