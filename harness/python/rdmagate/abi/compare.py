"""The ABI of stack A against stack B: findings, abidiff's opinion, verdicts."""
from dataclasses import dataclass, field
from pathlib import Path

import subprocess
import tempfile

from ..stacks import fetch, inventory, resolve
from . import abidiff, abixml, consumers as consumer_impact, headers, symbols, typerules
from .findings import Finding, rank, verdicts


@dataclass
class AbiReport:
    old: dict                      # inventories
    new: dict
    findings: list[Finding]
    abidiff_runs: list = field(default_factory=list)
    consumers: list = field(default_factory=list)

    @property
    def verdicts(self) -> dict:
        return verdicts(self.findings)

    def as_dict(self) -> dict:
        return {"from": self.old["stack"], "to": self.new["stack"], "verdicts": self.verdicts,
                "abidiff": {r.library: r.status for r in self.abidiff_runs},
                "consumers": [c.as_dict() for c in self.consumers],
                "findings": [f.as_dict() for f in self.findings]}


def compare_stacks(old_name: str, new_name: str, suppressions: list[Path] = (),
                   say=lambda text: None, consumers: list[str] | None = None) -> AbiReport:
    """consumers: files, directories or .debs to check against the new stack;
    [] for the host's binaries that link the RDMA libraries; None for none."""
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
    with tempfile.TemporaryDirectory(prefix="rdmagate-abi-") as tmp:
        corpora = [header_corpus(tree, Path(tmp) / str(i)) for i, tree in enumerate(trees)]
        if all(corpora):
            (old_abi, _), (new_abi, knowledge) = corpora
            findings += typerules.compare(abixml.read(old_abi), abixml.read(new_abi), knowledge)
            runs.append(abidiff.run("headers", old_abi, new_abi, suppressions, all_types=True))
        else:
            findings.append(Finding("headers", "not compared", "review", "build",
                                    "a stack has no public headers (its -dev packages): header "
                                    "types were not compared"))
    impacts = []
    if consumers is not None:
        say("checking consumers against " + new["stack"]["name"])
        impacts = consumer_impact.analyze(consumers, new)
        findings += consumer_impact.findings(impacts)
    return AbiReport(old, new, sorted(findings, key=rank), runs, impacts)


def _abidw_version() -> str:
    done = subprocess.run(["abidw", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split()[-1] if done.stdout.split() else "unknown"


def header_corpus(tree, scratch: Path):
    """(ABIXML of the stack's headers, what its headers say of each struct),
    cached beside a fetched Debian stack (keyed by the abidw version: an older
    abidw may not read a newer one's corpus); None without headers."""
    if not (tree.root / "usr" / "include" / "infiniband" / "verbs.h").exists():
        return None
    cached = tree.root.parent / f"headers-abidw-{_abidw_version()}"
    if tree.stack.kind == "debian" and (cached / "headers.abi").exists():
        return cached / "headers.abi", _load_knowledge(cached)
    out = cached if tree.stack.kind == "debian" else scratch
    corpus, knowledge, _ = headers.build(tree.root, out)
    (out / "knowledge.txt").write_text("".join(f"{kind} {name}\n" for kind, names in
                                               knowledge.items() for name in sorted(names)))
    return corpus, knowledge


def _load_knowledge(directory: Path) -> dict:
    knowledge = {"handed_out": set(), "size_passed": set()}
    for line in (directory / "knowledge.txt").read_text().splitlines():
        kind, name = line.split()
        knowledge[kind].add(name)
    return knowledge
