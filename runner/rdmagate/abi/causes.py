"""Root causes: a change and its consequences as one finding.

A comparison finds one fact many times: a struct member that grew moves
every member after it; a version node that is gone fails every provider and
binary bound to it; a kernel whose vermagic and struct module changed makes
every export's CRC differ. Each finding gets the id of the cause it belongs
to, and the outputs show a cause once, with its consequences under it:
- type:NAME   every finding on one struct, union or enum of the headers;
- node:NAME   a version node removed or replaced (the private ABI), with the
              binaries and providers that fail to load for it;
- kernel      a kernel-wide change (vermagic, struct module, module_layout),
              with the CRC changes it implies counted;
- kind:KIND/AUDIENCE   every other finding, one cause per kind, its names listed.
Removals are named before counted changes: a cause that removes something
comes first, and its names are listed, never only counted. The grouping
reads only a finding's own fields, so a new kind of finding gets a cause too."""
import dataclasses
import re
from dataclasses import dataclass, field

from .. import terminal
from ..outputs import rundir, sarif
from ..stacks.layout import MANAGEMENT
from .findings import AUDIENCES, SEVERITIES, Finding
from .loads import LoadRun

KERNEL = "kernel"
_TYPE = re.compile(r"^(struct|union|enum) (\w+)")
_NODE = re.compile(r"\b[A-Z][A-Z0-9_]*_(?:PRIVATE_)?\d+(?:\.\d+)*\b")
NODE_KINDS = ("version node removed", "private ABI changed")
COUNTED = ("CRC changed",)        # said by the kernel-wide cause when there is one
ACTIONABLE = ("breaking", "review")


@dataclass
class Cause:
    id: str
    severity: str                  # the worst of its findings
    audience: str
    title: str                     # what changed, in one line
    findings: list[Finding]        # the root first
    consequences: list[str] = field(default_factory=list)   # named first, then counted

    @property
    def headline(self) -> str:
        """The title shortened to what a terminal line holds: what changed,
        and how many consequences."""
        root, kind = self.findings[0], self.id.split(":", 1)[0]
        more = "; ".join(c.split(":", 1)[0] for c in self.consequences)
        if kind == "type":
            # a detail that does not start with the type (a prototype's) says
            # the type's name, from the cause's id, before its kind
            text = root.detail if _TYPE.match(root.detail) else \
                f"{self.id.split(':', 1)[1]}: {root.kind}"
        elif kind == "node":
            text = root.detail.split(": ", 1)[0]
            more = "; ".join(re.sub(r" of (\S+) \d+ providers", " providers",
                                    c.split(" with ", 1)[0]).split(": ", 1)[0]
                             for c in self.consequences)
        elif kind == KERNEL:
            wide = [f.kind.removesuffix(" changed") for f in self.findings if not f.symbol]
            text = f"kernel ABI: {', '.join(wide)} changed"
        elif len(self.findings) == 1:
            text = f"{root.library}: {root.kind}" + (f" {root.symbol}" if root.symbol else "")
        else:
            text = self.title
        return text + (f"; {more}" if more else "")

    @property
    def removes(self) -> bool:
        return any("removed" in f.kind for f in self.findings)

    @property
    def actionable(self) -> bool:
        return self.severity in ACTIONABLE


@dataclass
class Action:
    text: str                      # what to do, naming what it covers
    audience: str
    covers: list[str]              # cause ids


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def old_nodes(finding: Finding) -> list[str]:
    """The version nodes a node finding says are gone (the old side)."""
    if finding.kind == "version node removed":
        return [finding.version]
    return _NODE.findall(finding.detail.split(" -> ", 1)[0])


def _kernel_wide(findings: list[Finding]) -> bool:
    return any(f.library == KERNEL and not f.symbol and f.severity == "breaking"
               for f in findings)


def cause_id(finding: Finding, nodes: set[str], kernel_wide: bool) -> str:
    if finding.library.endswith(".h") and (match := _TYPE.match(finding.detail)):
        return f"type:{match.group(2)}"
    if finding.kind in NODE_KINDS and old_nodes(finding):
        return f"node:{old_nodes(finding)[0]}"
    named = [n for n in nodes if n in finding.detail]
    if named and finding.kind.startswith("consumer"):
        return f"node:{sorted(named)[0]}"
    if kernel_wide and finding.audience == "kernel modules" and \
            ((finding.library == KERNEL and not finding.symbol) or finding.kind in COUNTED):
        return KERNEL
    return f"kind:{_slug(finding.kind)}/{_slug(finding.audience)}"


def assign(findings: list[Finding]) -> list[Finding]:
    """findings, each with the id of its cause."""
    nodes = {n for f in findings if f.kind in NODE_KINDS for n in old_nodes(f)}
    wide = _kernel_wide(findings)
    return [dataclasses.replace(f, cause=cause_id(f, nodes, wide)) for f in findings]


def reach(findings: list[Finding], corpus, prototypes: dict) -> list[Finding]:
    """The consequences of a type that changed beyond what its own findings
    say: the types that embed it (by value: they change with it) and the
    functions of the headers that take or return it, as information findings
    of its cause. corpus: the new headers' abixml.Corpus; prototypes: name
    -> headers.Prototype."""
    changed: dict[str, tuple[str, Finding]] = {}
    for f in findings:
        match = _TYPE.match(f.detail)
        if match and f.library.endswith(".h") and f.severity in ACTIONABLE:
            changed.setdefault(match.group(2), (match.group(1), f))
    out = []
    for name, (kind, root) in sorted(changed.items()):
        spelled = f"{kind} {name}"
        for outer in sorted(corpus.records.values(), key=lambda r: r.name):
            inside = [m for m in outer.order if re.fullmatch(
                rf"{re.escape(spelled)}(\[\d*\])*", outer.members[m][1])]
            if inside and outer.name != name:
                out.append(Finding(outer.header, "embedded in", "info", root.audience,
                                   f"{spelled}: embedded in {outer.kind} {outer.name}."
                                   f"{inside[0]}", outer.name,
                                   line=corpus.lines.get(outer.name, 0)))
        words = {name} | {alias for alias, what in corpus.aliases.items() if what == spelled}
        for function, proto in sorted(prototypes.items()):
            if set(re.findall(r"\w+", proto.signature)) & words:
                out.append(Finding(proto.header or "headers", "taken by", "info", root.audience,
                                   f"{spelled}: {function} {proto.signature}", function))
    return out


def _rank(finding: Finding) -> tuple:
    audience = AUDIENCES.index(finding.audience) if finding.audience in AUDIENCES else 9
    return (SEVERITIES.index(finding.severity), finding.kind == "member moved", audience)


def _names(findings: list[Finding]) -> list[str]:
    """What each finding is about, by its shortest name."""
    return [f.symbol.rsplit(".", 1)[-1] if f.symbol else
            f.version if "version" in f.kind else f.library for f in findings]


def _listed(kind: str, findings: list[Finding]) -> str:
    names = _names(findings)
    return f"{kind} ({len(findings)}): {', '.join(dict.fromkeys(names))}"


def _title(cause_id_: str, root: Finding, mine: list[Finding]) -> str:
    if cause_id_ == KERNEL:
        wide = [f.kind.removesuffix(" changed") for f in mine if not f.symbol]
        return (f"kernel ABI changed ({', '.join(wide)}): every out-of-tree module must be "
                "rebuilt")
    if cause_id_.startswith(("type:", "node:")) or len(mine) == 1:
        return f"{root.library}: {root.kind}: {root.detail}"
    return _listed(root.kind, mine)


def _consequences(root: Finding, mine: list[Finding]) -> list[str]:
    """The other findings of a cause, per kind: named where few enough to
    act on (moved members, binaries), counted where each says the same."""
    lines = []
    by_kind: dict[str, list[Finding]] = {}
    for f in mine:
        if f is not root and (f.symbol or f.library != KERNEL):   # the kernel's: in its title
            by_kind.setdefault(f.kind, []).append(f)
    for kind, found in sorted(by_kind.items(), key=lambda k: ("removed" not in k[0], k[0])):
        lines.append(f"{len(found)} {kind}" if kind in COUNTED else _listed(kind, found))
    return lines


def _provider_lines(node: str, runs: list[LoadRun] | None) -> list[str]:
    """Providers of the old stack (or a vendor's) that fail to load for a node."""
    lines = []
    for run in runs or []:
        if run.direction == "downgrade":
            continue
        failed = [p.provider for p in run.loads if not p.loaded and node in p.message]
        if failed:
            lines.append(f"{len(failed)} of {run.providers_of}'s {len(run.loads)} providers do "
                         f"not load with {run.libibverbs_of}'s libibverbs: {', '.join(failed)}")
    return lines


def group(findings: list[Finding], runs: list[LoadRun] | None = None) -> list[Cause]:
    """The causes of findings, removals first, then the worst; runs, the
    providers loaded, adds the providers each node fails. The ids are
    assigned again: a file read back is not trusted to hold them right."""
    found = assign(findings)
    by_id: dict[str, list[Finding]] = {}
    for f in found:
        by_id.setdefault(f.cause, []).append(f)
    causes = []
    for id_, mine in by_id.items():
        mine = sorted(mine, key=_rank)
        root = mine[0]
        if id_ == KERNEL:
            root = next(f for f in mine if not f.symbol)
            mine = [root] + [f for f in mine if f is not root]
        consequences = _consequences(root, mine) if id_.startswith(("type:", "node:", KERNEL)) \
            else []
        if id_.startswith("node:"):
            consequences += _provider_lines(id_.split(":", 1)[1], runs)
        causes.append(Cause(id_, root.severity, root.audience, _title(id_, root, mine), mine,
                            consequences))
    causes.sort(key=lambda c: (not (c.removes and c.actionable), SEVERITIES.index(c.severity),
                               AUDIENCES.index(c.audience) if c.audience in AUDIENCES else 9,
                               -len(c.findings), c.id))
    return causes


def _cut(names: list[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def management(library: str) -> str | None:
    """The fabric management library a finding's library or header is, or None."""
    for name, header in MANAGEMENT.items():
        if library in (name, header):
            return name
    return None


def _management(cause: Cause) -> str | None:
    return management(cause.findings[0].library)


def _new_release(cause: Cause) -> str:
    """The new kernel's release, from its vermagic finding ('... -> 'R SMP ...')."""
    for f in cause.findings:
        if f.kind == "vermagic changed" and "-> '" in f.detail:
            return f.detail.split("-> '", 1)[1].split()[0]
    return "the new kernel"


def action(cause: Cause, runs: list[LoadRun] | None = None) -> str:
    """What to do about one cause, naming what it covers."""
    root = cause.findings[0]
    if cause.id.startswith("node:") and cause.audience == "providers":
        node = cause.id.split(":", 1)[1]
        new = root.version or "the new private ABI"
        failed = [p.provider for run in runs or [] if run.direction != "downgrade"
                  for p in run.loads if not p.loaded and node in p.message]
        of = next((r for r in runs or [] if r.direction == "upgrade"), None)
        covers = (f" ({len(failed)} of {of.providers_of}'s do not load: {_cut(failed, 3)})"
                  if failed and of else "")
        return f"rebuild out-of-tree providers against {new}{covers}"
    if cause.id.startswith("node:"):
        return f"rebuild binaries that import {cause.id.split(':', 1)[1]} ({root.library})"
    if cause.id.startswith("type:"):
        name = cause.id.split(":", 1)[1]
        word = "changed" if any(f.kind in ("size shrank", "member removed") for f in
                                cause.findings) else "grew"
        typed = _TYPE.match(root.detail)
        assert typed is not None   # a type cause's root declares the type (cause_id)
        kind = typed.group(1)
        if library := _management(cause):
            return f"rebuild tools that link {library} ({kind} {name} {word})"
        if cause.severity == "breaking":
            # a type only providers' hooks take (typerules._implementers)
            hurt = {f.audience for f in cause.findings if f.severity == "breaking"}
            who = "providers" if "providers" in hurt and "applications" not in hurt \
                else "applications"
            return f"rebuild {who} that use {kind} {name} ({root.library}: it {word})"
        return f"review code that allocates or copies {kind} {name} ({root.library})"
    if cause.id == KERNEL:
        return f"rebuild out-of-tree kernel modules for {_new_release(cause)}"
    if root.kind == "provider removed":
        names = [f.library.removeprefix("provider ") for f in cause.findings]
        return f"hosts with {', '.join(names)} devices lose their userspace driver"
    if root.kind == "export removed":
        return (f"port out-of-tree modules that call the {len(cause.findings)} removed "
                f"exports ({_cut(_names(cause.findings), 3)})")
    if root.kind == "C library floor raised":
        newest = max((f.version for f in cause.findings), key=_version_key)
        return (f"hosts need glibc {newest.removeprefix('GLIBC_')} or newer for "
                f"{_cut(_names(cause.findings), 3)}")
    if root.kind.startswith("consumer"):
        return ("rebuild or replace the binaries that no longer load "
                f"({_cut(_names(cause.findings), 3)})")
    verb = "fix" if cause.severity == "breaking" else "review"
    return f"{verb} for {cause.audience}: {cause.title}"


def _version_key(version: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", version))


# the libraries applications use; "need nothing" when no cause touches them
APPLICATION_LIBRARIES = ("libibverbs", "librdmacm")


def actions(causes: list[Cause], runs: list[LoadRun] | None = None) -> list[Action]:
    """What to do, ranked as the causes are: one action per distinct text
    (the kernel's rebuild covers its removed exports, which it names); and,
    when nothing hurts applications of the verbs libraries, that they need
    nothing."""
    kernel = next((c for c in causes if c.id == KERNEL), None)
    removed = next((c for c in causes if c.findings[0].kind == "export removed"), None)
    out: list[Action] = []
    for cause in causes:
        if not cause.actionable:
            continue
        text, covers = action(cause, runs), [cause.id]
        if kernel and cause in (kernel, removed):
            if any(kernel.id in a.covers for a in out):
                continue
            text = action(kernel, runs) + (
                f" ({len(removed.findings)} exports removed: {_cut(_names(removed.findings), 4)})"
                if removed else "")
            covers = [c.id for c in (removed, kernel) if c]
        same = next((a for a in out if a.text == text), None)
        if same:
            same.covers += covers
            continue
        out.append(Action(text, cause.audience, covers))
    hurt = [c for c in causes if c.actionable and c.audience == "applications"
            and not _management(c) and c.findings[0].kind != "provider removed"]
    if not hurt and any(c.audience in AUDIENCES for c in causes):
        out.append(Action(f"applications of {' and '.join(APPLICATION_LIBRARIES)} need nothing",
                          "applications", []))
    return out


def text(causes: list[Cause], todo: list[Action], shown: int = 12) -> list[str]:
    """The causes that need action, each with its consequences, and the
    actions, for a terminal: what is removed is named in full, the rest
    clipped to a line."""
    out = ["Why (one line a cause; removed names first):"]
    acting = [c for c in causes if c.actionable]
    for cause in acting[:shown]:
        if cause.removes:
            out += terminal.wrapped(cause.title, f"  {cause.severity:<8} ", " " * 11)
        else:
            out += terminal.wrapped(cause.headline, f"  {cause.severity:<8} ", " " * 11, lines=2)
    if len(acting) > shown:
        out.append(f"  ... and {len(acting) - shown} more causes")
    if not acting:
        out.append("  nothing to act on")
    out.append("What to do:")
    for n, action in enumerate(todo, start=1):
        out += terminal.wrapped(action.text, f"  {n}. ", "     ")
    if not todo:
        out.append("  nothing")
    return out


LEVEL = {"breaking": "error", "review": "warning", "benign": "note", "info": "note"}
RELATED = 100   # related locations a result lists at most


def where(finding: Finding) -> sarif.Location:
    """A header finding's file and line; else its library or module by name."""
    if finding.library.endswith(".h"):
        return sarif.Location(header=finding.library, line=finding.line)
    return sarif.Location(module=finding.library)


def sarif_entry(cause: Cause, level: str | None = None, rule: str | None = None) -> sarif.Entry:
    """One cause as a SARIF result: the rule from its audience, severity and
    root kind; its consequences' declarations as related locations."""
    root = cause.findings[0]
    related = [sarif.Location(f.library, f.line, text=f"{f.kind}: {f.detail}")
               for f in cause.findings[1:]
               if f.library.endswith(".h")][:RELATED]
    rule = rule or f"{_slug(cause.audience)}/{cause.severity}/{_slug(root.kind)}"
    return sarif.Entry(rule, f"{root.kind} ({cause.severity} for {cause.audience})",
                       level if level else LEVEL.get(cause.severity, "note"),
                       "\n".join([cause.title, *cause.consequences]), where(root), related,
                       {"cause": cause.id, "severity": cause.severity,
                        "audience": cause.audience, "findings": len(cause.findings)})


def write_sarif(causes: list[Cause], path) -> None:
    """findings.sarif of an abi or kabi run: one result per cause."""
    sarif.write([sarif_entry(c) for c in causes], path, rundir.git_revision())
