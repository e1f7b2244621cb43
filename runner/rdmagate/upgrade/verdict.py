"""The gate's verdict from what its phases found (an Upgrade, upgrade.json).

NO-GO: something that works on A breaks on B for this site: an application
ABI break (other than a provider for hardware not in use, or one in the
fabric management libraries libibmad and libibnetdisc), a consumer on
this host that no longer loads, a given out-of-tree kernel module that
would not load on B's kernel, the suites no longer compiling against B's
headers, a verbs test that passed on A failing on B, the A build failing on
B's libraries. GO WITH RISKS: what hurts someone else or may: providers'
private ABI, the build audience, review findings, a provider removed for
hardware not in use, an application break in libibmad or libibnetdisc (their
users are diagnostics tools; a consumer here that no longer loads still
breaks), the RDMA kernel interface changed (without modules
named to check), a measurement slower, a phase, a test or a measurement
that could not run (an ERROR is the infrastructure's: untested, not a break).
GO: none of these. NOT TESTED: no phase but fetch ended (all skipped or
failed): a gate that tested nothing says so."""

from .. import outcomes
from ..abi import causes, loads
from ..abi.causes import management
from .record import Abi, Kabi, Reason, Series, Upgrade, Verbs

CATEGORIES = ("breaks", "slower", "risk", "untested")   # rank order
NOT_TESTED = "NOT TESTED"   # no phase that tests anything ended: exit 3, never a GO
BREAKS = outcomes.UNEXPECTED   # an ERROR (infrastructure) leaves a test untested, not broken


def _abi_reasons(abi: Abi | None, device_driver: str | None) -> list[Reason]:
    out = []
    for f in causes.assign(abi.findings) if abi else []:   # also a record written before causes
        if f.severity not in ("breaking", "review"):
            continue
        text = f"{f.library}: {f.kind}: {f.detail}"
        if f.severity == "review":
            out.append(Reason("risk", f.audience, text))
        elif f.audience == "applications" and f.kind == "provider removed" \
                and f.library != f"provider {device_driver}":
            out.append(Reason("risk", "applications",
                              text + " (not the provider of the device tested here)"))
        elif f.audience == "applications" and not f.kind.startswith("consumer") \
                and (library := management(f.library)):
            out.append(Reason("risk", "applications", f"{text} (a fabric management library: "
                              f"tools linking {library} must be rebuilt; the "
                              "verbs applications the gate tests do not use it)"))
        elif f.audience in ("applications", "consumers") or f.kind.startswith("consumer"):
            out.append(Reason("breaks", f.audience, text))
        else:
            out.append(Reason("risk", f.audience, text))
        out[-1].cause = f.cause   # a finding's reasons are grouped as its findings are
    return out


def abi_note(abi: Abi | None, device_driver: str | None) -> str:
    """The abi phase's note, from the reasons the verdict counts (so a
    provider removed for hardware not in use reads as a risk in both), and
    how many providers really loaded."""
    reasons = _abi_reasons(abi, device_driver)
    parts = []
    for category, word in (("breaks", "breaks"), ("risk", "risks")):
        counts: dict[str, int] = {}
        for reason in reasons:
            if reason.category == category:
                counts[reason.audience] = counts.get(reason.audience, 0) + 1
        if counts:
            parts.append(f"{word} for " + ", ".join(f"{a} ({n})" for a, n in counts.items()))
    note = "; ".join(parts) or "no ABI break or risk"
    if abi and abi.loads is not None:
        note += "; providers loaded: " + loads.summary(abi.loads)
    return note


def _verbs_reasons(verbs: Verbs | None, old: str, new: str, compat: str) -> list[Reason]:
    out: list[Reason] = []
    if verbs is None:
        return out
    for test, cells in sorted(verbs.tests.items()):
        before, after = cells.get(old), cells.get(new)
        why = verbs.messages.get(test, {})
        if after in BREAKS and before not in BREAKS:
            out.append(Reason("breaks", "verbs", f"{test}: {before or 'not run'} on {old}, "
                              f"{after} on {new}: {why.get(new, '')}"))
        elif after in BREAKS:
            out.append(Reason("risk", "verbs", f"{test}: {after} on {new} as on {old}"))
        elif after in outcomes.INFRA:
            out.append(Reason("untested", "verbs", f"{test}: {after} on {new}: "
                              f"{why.get(new, '')}"))
        binary = cells.get(compat)
        if binary in BREAKS and after not in BREAKS:
            out.append(Reason("breaks", "applications",
                              f"{test}: built against {old}, {binary} on {new}'s libraries "
                              f"(rebuilt: {after})"))
        elif binary in outcomes.INFRA:
            out.append(Reason("untested", "applications",
                              f"{test}: built against {old}, {binary} on {new}'s libraries: "
                              f"{why.get(compat, '')}"))
    return out


WHERE = {"lab": "in the lab: soft-RoCE under an emulated CPU, not a device",
         "device": "on the device"}


def _perf_reasons(perf: list[Series] | None) -> list[Reason]:
    out = []
    for series in perf or []:
        where = WHERE.get(series.where or "", "")
        for point in series.points:
            if point.verdict == "slower":
                low, high = point.ci
                measure = "the time" if series.kind == "latency" else "1/the rate"
                how = f"99% CI {low:.2f}-{high:.2f}" if series.clock != "instructions" else \
                    ("virtual time on the instruction clock, run spread "
                     + "/".join(f"{x:.2%}" for x in point.spread or []))
                out.append(Reason("slower", "performance",
                                  f"{series.title} at {point.size} B: "
                                  f"{point.ratio:.2f}x {measure} on the new stack ({how})"
                                  + (f", {where}" if where else ""), where=series.where))
        for gap in series.unmeasured or []:
            out.append(Reason("untested", "performance",
                              f"{series.title} at {gap.size} B on {gap.stack}: "
                              f"not measured: {gap.why}"))
    return out


def _order(reason: Reason) -> float:
    """Rank: a performance finding of the lab only comes after every risk
    (what soft-RoCE does under emulation says little about a customer's
    HCA), before what could not be tested."""
    if reason.category == "slower" and reason.where == "lab":
        return CATEGORIES.index("risk") + 0.5
    return CATEGORIES.index(reason.category)


def _kabi_reasons(kabi: Kabi | None) -> list[Reason]:
    """A given module that would not load on B breaks; without modules, how
    much of the RDMA kernel interface changed is a risk (rebuild them)."""
    if not kabi:
        return []
    out = []
    old, release = kabi.releases
    for module in kabi.modules:
        if not module.loads:
            out.append(Reason("breaks", "kernel modules",
                              f"{module.module} ({module.path}) would not load on "
                              f"{release}: {module.messages[0] if module.messages else module.check}"))
    for proof in kabi.proofs:
        if not proof.agrees:
            out.append(Reason("untested", "kernel modules",
                              f"{proof.module}: the lab load on {release} disagrees with "
                              f"rdmagate's prediction ({'loaded' if proof.loaded else 'refused'}"
                              f": {(proof.kernel_lines or [proof.insmod])[0]})"))
    changed = kabi.summary.by_kind
    broken = sum(n for k, n in changed.items() if k != "export added")
    kernel = [f.kind for f in kabi.kernel if f.severity == "breaking"]
    if not kabi.given and (broken or kernel):
        what = ", ".join(f"{n} {k}" for k, n in sorted(changed.items()) if k != "export added")
        out.append(Reason("risk", "kernel modules",
                          f"the RDMA kernel interface changes from {old} to "
                          f"{release}: {what or 'no export'} of "
                          f"{kabi.summary.exports_compared} exports"
                          + (f"; {', '.join(kernel)}" if kernel else "")
                          + ": out-of-tree modules (vendor OFED drivers, Lustre o2ib, "
                          "GPUDirect, storage targets) must be rebuilt for it; name them "
                          "with --modules to check"))
    return out


def decide(upgrade: Upgrade) -> tuple[str, list[Reason]]:
    old, new = upgrade.old.name, upgrade.new.name
    reasons = []
    if upgrade.api and upgrade.api.compiles is False:
        reasons.append(Reason("breaks", "build", upgrade.api.error))
    reasons += _abi_reasons(upgrade.abi, upgrade.device_driver)
    reasons += _kabi_reasons(upgrade.kabi)
    reasons += _verbs_reasons(upgrade.verbs, old, new, upgrade.compat_column)
    reasons += _perf_reasons(upgrade.perf)
    for phase in upgrade.phases:
        if phase.status != "done":
            reasons.append(Reason("untested", phase.name,
                                  f"phase {phase.name} {phase.status}: {phase.note}",
                                  cause="phases"))
    reasons.sort(key=_order)
    for rank, reason in enumerate(reasons, start=1):
        reason.rank = rank
    if any(r.category == "breaks" for r in reasons):
        return "NO-GO", reasons
    # fetching alone, or nothing, tests nothing (a record with no phase
    # list at all is one made by hand from its sections: judged by them)
    if upgrade.phases and not any(p.status == "done" and p.name != "fetch"
                                  for p in upgrade.phases):
        return NOT_TESTED, reasons
    return ("GO WITH RISKS" if reasons else "GO"), reasons


def decided(upgrade: Upgrade) -> Upgrade:
    """upgrade with its verdict and reasons decided again from its sections;
    the abi phase's note told again with the device known by now."""
    upgrade.verdict, upgrade.reasons = decide(upgrade)
    for phase in upgrade.phases:
        if phase.name == "abi" and phase.status == "done" and upgrade.abi:
            phase.note = abi_note(upgrade.abi, upgrade.device_driver)
    return upgrade
