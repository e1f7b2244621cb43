"""The gate's answer in the order a person acts on it: why (its reasons,
one line a cause, abi/causes.py) and what to do (ranked actions, each
naming what it covers), from an Upgrade alone, so `rdmagate report` says
the same as the run did."""
from dataclasses import dataclass, field

from ..abi import causes
from ..abi.causes import Action
from ..outputs import rundir, sarif
from .record import Kabi, Reason, Upgrade


@dataclass
class Item:
    """One cause of the gate's reasons: its worst reason's rank and category."""
    key: str
    rank: int
    category: str
    audience: str
    title: str
    reasons: list[Reason]
    consequences: list[str] = field(default_factory=list)


def _abi_causes(upgrade: Upgrade) -> list[causes.Cause]:
    if not upgrade.abi:
        return []
    return causes.group(upgrade.abi.findings, upgrade.abi.loads)


def _title(reasons: list[Reason]) -> str:
    if len(reasons) == 1:
        return reasons[0].text
    heads = [r.text.split(": ", 1)[0] for r in reasons]
    return f"{len(reasons)} {reasons[0].audience}: " + ", ".join(dict.fromkeys(heads))


def why(upgrade: Upgrade) -> list[Item]:
    """The reasons grouped by cause, in the verdict's rank order."""
    known = {c.id: c for c in _abi_causes(upgrade)}
    groups: dict[str, list[Reason]] = {}
    for reason in sorted(upgrade.reasons or [], key=lambda r: r.rank):
        groups.setdefault(reason.cause or f"{reason.category}/{reason.audience}",
                          []).append(reason)
    items = []
    for key, reasons in groups.items():
        cause = known.get(key)
        first = reasons[0]
        title = _title(reasons)
        if key == "phases":
            title = "phases not run: " + ", ".join(r.audience for r in reasons)
        if cause:
            title = cause.headline
            if "(not the provider of the device tested here)" in first.text:
                title += " (not the device here)"
        elif first.audience == "kernel modules" and first.category == "risk" and upgrade.kabi:
            title = _kabi_title(upgrade.kabi)
        items.append(Item(key, first.rank, first.category, first.audience, title, reasons,
                          cause.consequences if cause else []))
    return items


def _kabi_title(kabi: Kabi) -> str:
    """The kernel interface's change, removals named first."""
    removed = kabi.removed
    counted = ", ".join(f"{n} {k}" for k, n in sorted(kabi.summary.by_kind.items())
                        if k not in ("export added", "export removed"))
    wide = ", ".join(f.kind.removesuffix(" changed") for f in kabi.kernel
                     if f.severity == "breaking")
    return (f"Linux {kabi.releases[1]}: "
            + (f"{len(removed)} exports removed ({_cut(removed, 3)}); " if removed else "")
            + (counted or "no export changed") + (f"; {wide} changed" if wide else ""))


def _cut(names: list[str], shown: int = 4) -> str:
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def _kabi_action(upgrade: Upgrade) -> Action | None:
    kabi = upgrade.kabi
    if not kabi:
        return None
    release = kabi.releases[1]
    refused = [m.module for m in kabi.modules if not m.loads]
    if refused:
        return Action(f"rebuild {_cut(refused)} for {release}: they would not load on it",
                      "kernel modules", ["kabi"])
    removed = kabi.removed
    changed = sum(n for k, n in kabi.summary.by_kind.items() if k != "export added")
    if not changed and not kabi.kernel:
        return None
    covers = f" ({len(removed)} RDMA exports removed: {_cut(removed)})" if removed else \
        f" ({changed} RDMA exports changed)"
    return Action(f"rebuild out-of-tree kernel modules for {release}{covers}", "kernel modules",
                  ["kabi"])


def actions(upgrade: Upgrade) -> list[Action]:
    """What to do, ranked by the worst reason each covers."""
    items = why(upgrade)
    rank = {item.key: item.rank for item in items}
    found = [a for a in causes.actions(_abi_causes(upgrade), upgrade.abi.loads
                                       if upgrade.abi else None)
             if not a.covers or any(c in rank for c in a.covers)]
    kabi = next((i for i in items if i.audience == "kernel modules"), None)
    if kabi and (action := _kabi_action(upgrade)):
        action.covers = [kabi.key]
        found.append(action)
    new = upgrade.new.name
    for item in items:
        if item.audience in ("verbs", "applications") and not any(
                r.cause for r in item.reasons) and item.category in ("breaks", "risk"):
            tests = [r.text.split(": ", 1)[0] for r in item.reasons]
            found.append(Action(f"find why {len(tests)} verbs tests break on {new} "
                                f"({_cut(tests, 3)})", item.audience, [item.key]))
        elif item.category == "slower":
            where = "in the lab; measure on a device" if item.reasons[0].where == "lab" \
                else "on the device"
            found.append(Action(f"expect {len(item.reasons)} measurements slower {where} "
                                f"({item.reasons[0].text.split(' at ', 1)[0]})",
                                "performance", [item.key]))
        elif item.key == "phases":
            phases = [r.audience for r in item.reasons]
            found.append(Action(f"run the phases not run: {', '.join(phases)} "
                                f"({item.reasons[0].text.split(': ', 1)[-1]})", "gate",
                                [item.key]))
        elif item.category == "untested":
            found.append(Action(f"rerun what could not be tested: {_title(item.reasons)}",
                                item.audience, [item.key]))
    needless = [a for a in found if not a.covers]
    if any(i.category == "breaks" and i.audience in ("applications", "verbs", "consumers")
           for i in items):
        needless = []   # applications do need something
    ranked = sorted((a for a in found if a.covers),
                    key=lambda a: min(rank.get(c, 10 ** 6) for c in a.covers))
    return ranked + needless


LEVEL = {"breaks": "error", "risk": "warning", "slower": "warning", "untested": "note"}


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def sarif_entries(upgrade: Upgrade) -> list[sarif.Entry]:
    """One result per cause of the gate's reasons; the level is the gate's
    category (a break for this site is an error, a risk a warning)."""
    known = {c.id: c for c in _abi_causes(upgrade)}
    out = []
    for item in why(upgrade):
        level, rule = LEVEL.get(item.category, "note"), f"{_slug(item.audience)}/{item.category}"
        if item.key in known:
            cause = known[item.key]
            out.append(causes.sarif_entry(cause, level,
                                          f"{rule}/{_slug(cause.findings[0].kind)}"))
            continue
        where = sarif.Location(module="kernel") if item.audience == "kernel modules" else None
        out.append(sarif.Entry(rule, f"{item.category} for {item.audience}", level,
                               "\n".join([item.title] + [r.text for r in item.reasons[1:]]),
                               where, [], {"cause": item.key, "category": item.category,
                                           "audience": item.audience,
                                           "reasons": [r.rank for r in item.reasons]}))
    return out


def write_sarif(upgrade: Upgrade, path) -> None:
    sarif.write(sarif_entries(upgrade), path, rundir.git_revision())
