"""The ABI of stack A against stack B: findings, abidiff's opinion, verdicts.

Each side is a fetched stack, or its recorded baseline when the stack is not
in the cache (baselines/abi/NAME, see baseline.py)."""
import filecmp
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..stacks import elf, fetch, inventory, is_fetched, resolve
from . import abidiff, abixml, baseline, causes, consumers as consumer_impact, headers, \
    locations, suppress, symbols, typerules
from ..outputs.audience import AudienceVerdict
from .findings import Finding, FindingsFile, of_consumers, rank, verdicts


@dataclass
class Side:
    inventory: dict
    libs: dict[str, Path]            # library -> its .so, or its corpus in a baseline
    headers: tuple | None            # (ABIXML corpus, knowledge) or None without headers
    source: str                      # where it came from, for the report


@dataclass
class AbiReport:
    old: dict                      # inventories
    new: dict
    findings: list[Finding]
    abidiff_runs: list = field(default_factory=list)
    consumers: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    suppressed: list = field(default_factory=list)

    @property
    def verdicts(self) -> dict:
        return verdicts(self.findings)

    def record(self) -> FindingsFile:
        """What findings.json holds of this comparison."""
        return FindingsFile(self.old["stack"], self.new["stack"],
                            {a: AudienceVerdict(**v) for a, v in self.verdicts.items()},
                            self.sources, {r.library: r.status for r in self.abidiff_runs},
                            self.consumers, self.suppressed, causes.assign(self.findings))


def side(name: str, scratch: Path, say, from_baseline: bool = False) -> Side:
    stack = resolve(name)
    if from_baseline or (stack.kind == "debian" and not is_fetched(stack)):
        recorded = baseline.load(stack)
        if recorded is None and from_baseline:
            raise UsageError(f"no ABI baseline of {stack.name} for this abidw and these "
                             f"packages: rdmagate baseline record --stack {stack.name}")
        if recorded is not None:
            return Side(recorded["inventory"], recorded["libs"], recorded["headers"],
                        f"baseline {recorded['dir']}")
    tree = fetch(stack, say=say, with_rootfs=False)
    inv = inventory(tree)
    libs = {n: tree.root / lib["file"] for n, lib in inv["libraries"].items() if lib}
    return Side(inv, libs, headers.of_stack(tree, scratch), f"tree {tree.root}")


def exported_names(inv: dict) -> set[str]:
    """Every function or variable name any library of the stack exports."""
    return {key.split("@", 1)[0] for lib in inv["libraries"].values() if lib
            for kind in ("public", "private") for key in lib["exports"][kind]}


def symbol_versions(inv: dict) -> dict[str, tuple[str | None, set[str]]]:
    """symbol -> (its default version, every version it is exported under)."""
    out: dict[str, tuple[str | None, set[str]]] = {}
    for lib in (lib for lib in inv["libraries"].values() if lib):
        for key, version in lib["exports"]["public"].items():
            symbol = key.split("@", 1)[0]
            default, every = out.get(symbol, (None, set()))
            out[symbol] = (version if "@" not in key else default, every | {version})
    return out


def _private_names(inv: dict) -> set[str]:
    lib = inv["libraries"].get("libibverbs")
    return {key.split("@", 1)[0] for key in lib["exports"]["private"]} if lib else set()


def _same_private_node(old: Side, new: Side) -> str | None:
    """The private node both sides' libibverbs export, when it did not change."""
    libs = [side.inventory["libraries"].get("libibverbs") for side in (old, new)]
    if not all(libs) or set(libs[0]["private_versions"]) != set(libs[1]["private_versions"]) \
            or not libs[0]["private_versions"]:
        return None
    return sorted(libs[0]["private_versions"])[-1]


def _private_abi(old: Side, new: Side, scratch: Path) -> list[Finding]:
    """The private ABI from the libraries' own debug info: its functions'
    signatures, and the layouts of the types they pass (struct
    verbs_context_ops, struct verbs_sysfs_dev, ...). Without debug info those
    layouts cannot be seen: said, when the private node stayed."""
    old_lib, new_lib = old.libs.get("libibverbs"), new.libs.get("libibverbs")
    if old_lib and new_lib and filecmp.cmp(old_lib, new_lib, shallow=False):
        return []   # one library on both sides (a stack on another kernel): nothing moved
    node = _same_private_node(old, new)
    debug = [p is not None and elf.is_elf(p) and elf.has_debug_info(p) for p in (old_lib, new_lib)]
    if not (old_lib and new_lib and all(debug)):
        if node is None:
            return []
        # a recorded baseline holds what the stripped library held: no types
        lacking = " and ".join(s.inventory["stack"]["name"] for s, d in zip((old, new), debug)
                               if not d)
        return [Finding("libibverbs", "private types not compared", "review", "providers",
                        f"no debug info in {lacking}'s libibverbs, so the layouts of the types "
                        f"{node} passes to providers (struct verbs_context_ops and the other "
                        "driver.h types) were not compared, and rdma-core changes them without "
                        "a new node; compare builds with debug info to know", version=node)]
    scratch.mkdir(parents=True, exist_ok=True)
    corpora = [scratch / f"libibverbs-{i}.abi" for i in range(2)]
    sigs = [abixml.function_signatures(p, corpus) for p, corpus in zip((old_lib, new_lib), corpora)]
    found = symbols.private_signatures(old.inventory, new.inventory, sigs[0], sigs[1],
                                       "from debug info")
    if node is not None:
        private = [_private_names(side.inventory) for side in (old, new)]
        reached = [abixml.reachable_records(c, names) for c, names in zip(corpora, private)]
        found += typerules.private_layouts(reached[0], reached[1], node)
    return found


def compare_stacks(old_name: str, new_name: str, suppressions: Sequence[Path] = (),
                   say=lambda text: None, consumers: list[str] | None = None,
                   old_from_baseline: bool = False) -> AbiReport:
    """consumers: files, directories or .debs to check against the new stack;
    [] for the host's binaries that link the RDMA libraries; None for none.
    old_from_baseline: take the old side from its recorded baseline."""
    rules = [rule for path in suppressions for rule in suppress.read(path)]   # refused first
    with tempfile.TemporaryDirectory(prefix="rdmagate-abi-") as tmp:
        old = side(old_name, Path(tmp) / "0", say, from_baseline=old_from_baseline)
        new = side(new_name, Path(tmp) / "1", say)
        findings = symbols.compare(old.inventory, new.inventory)
        # one abidiff per library (eleven with the direct-verbs ones), run side by side
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            runs = list(pool.map(lambda name: abidiff.run(name, old.libs[name], new.libs[name],
                                                          suppressions),
                                 sorted(set(old.libs) & set(new.libs))))
        library_runs, public = list(runs), None
        findings += _private_abi(old, new, Path(tmp))
        if old.headers and new.headers:
            (old_abi, old_knowledge), (new_abi, knowledge) = old.headers, new.headers
            # the functions old binaries call with arrays (old headers) matter too
            knowledge = {**knowledge, "old_array_passed": old_knowledge["array_passed"],
                         "old_hook_only": dict(old_knowledge.get("hook_only", ())),
                         "old_versions": symbol_versions(old.inventory)}
            old_corpus = abixml.read(old_abi)
            old_protos = headers.read_prototypes(old_abi.with_name("prototypes.txt"))
            missing = set(old.inventory["headers"]) - set(new.inventory["headers"])
            findings += typerules.header_not_shipped(missing, old_corpus, old_protos)
            new_corpus = abixml.read(new_abi)
            findings += typerules.compare(old_corpus, new_corpus, knowledge, missing,
                                          symbol_versions(new.inventory))
            new_protos = headers.read_prototypes(new_abi.with_name("prototypes.txt"))
            private = _private_names(old.inventory)
            findings += [f for f in typerules.compare_prototypes(
                old_protos, new_protos, exported_names(old.inventory), missing)
                if not (f.kind == "prototype changed" and f.symbol in private)]
            # debug info said it already (a source build ships both): said once
            said = {f.symbol for f in findings if f.kind == symbols.CHANGED_PRIVATE}
            findings += [f for f in symbols.private_signatures(
                old.inventory, new.inventory,
                {n: p.signature for n, p in old_protos.items() if n in private},
                {n: p.signature for n, p in new_protos.items() if n in private},
                "from infiniband/driver.h") if f.symbol not in said]
            findings += symbols.public_api_under_private(old.inventory, new.inventory,
                                                         old_protos, new_protos)
            findings = symbols.by_importer(findings, old_protos, new_protos)
            runs.append(abidiff.run("headers", old_abi, new_abi, suppressions, all_types=True))
            # the types of a header not shipped are said by that one finding
            judged = {n for n, r in old_corpus.records.items() if r.header not in missing} | \
                {n for n, (h, _) in old_corpus.enums.items() if h not in missing}
            public = set(new_corpus.records) | set(new_corpus.enums)
            same = {n for n, r in old_corpus.records.items() if n in new_corpus.records
                    and not typerules.layout_changes(r, new_corpus.records[n])}
            findings += abidiff.reconcile(runs[-1], findings, judged, public, same)
            findings += causes.reach(findings, new_corpus, new_protos)
            findings = locations.locate(findings, old_corpus, new_corpus)
            public |= set(old_corpus.records) | set(old_corpus.enums)
        else:
            lacking = " and ".join(s.inventory["stack"]["name"] for s in (old, new) if not s.headers)
            findings.append(Finding("headers", "not compared", "review", "build",
                                    f"{lacking}: no infiniband/verbs.h in its include directories "
                                    "(its -dev packages): header types were not compared"))
        # abidiff's opinion last: checked against every finding of rdmagate's
        findings += abidiff.cross_check(library_runs, findings, public)
    impacts = []
    if consumers is not None:
        say("checking consumers against " + new.inventory["stack"]["name"])
        # functions whose signature changed under the same version: "" for a
        # public one (a header prototype), else the private node it stayed in
        changed = {f.symbol: f.version for f in findings
                   if f.kind in ("prototype changed", symbols.CHANGED_PRIVATE)}
        impacts = consumer_impact.analyze(consumers, new.inventory, changed)
        findings += of_consumers(impacts)
    libs = suppress.libraries([(old.inventory, old.libs), (new.inventory, new.libs)]) \
        if rules else {}
    findings, dropped = suppress.apply(findings, rules, libs)
    return AbiReport(old.inventory, new.inventory, sorted(findings, key=rank), runs, impacts,
                     [old.source, new.source], dropped)
