"""The gate's verdict from what its phases found (upgrade.json's data).

NO-GO: something that works on A breaks on B for this site: an application
ABI break (other than a provider for hardware not in use), a consumer on
this host that no longer loads, a given out-of-tree kernel module that
would not load on B's kernel, the suites no longer compiling against B's
headers, a verbs test that passed on A failing on B, the A build failing on
B's libraries. GO WITH RISKS: what hurts someone else or may: providers'
private ABI, the build audience, review findings, a provider removed for
hardware not in use, the RDMA kernel interface changed (without modules
named to check), a measurement slower, a phase or a measurement
that could not run.
GO: none of these."""

CATEGORIES = ("breaks", "slower", "risk", "untested")   # rank order
BAD = ("FAIL", "CRASH", "TIMEOUT", "ERROR")


def _reason(category: str, audience: str, text: str) -> dict:
    return {"category": category, "audience": audience, "text": text}


def _abi_reasons(abi: dict, device_driver: str | None) -> list[dict]:
    out = []
    for f in abi.get("findings", []):
        if f["severity"] not in ("breaking", "review"):
            continue
        text = f"{f['library']}: {f['kind']}: {f['detail']}"
        if f["severity"] == "review":
            out.append(_reason("risk", f["audience"], text))
        elif f["audience"] == "applications" and f["kind"] == "provider removed" \
                and f["library"] != f"provider {device_driver}":
            out.append(_reason("risk", "applications",
                               text + " (not the provider of the device tested here)"))
        elif f["audience"] in ("applications", "consumers") or f["kind"].startswith("consumer"):
            out.append(_reason("breaks", f["audience"], text))
        else:
            out.append(_reason("risk", f["audience"], text))
    return out


def _verbs_reasons(verbs: dict, old: str, new: str, compat: str) -> list[dict]:
    out = []
    tests = verbs.get("tests", {})
    for test, cells in sorted(tests.items()):
        before, after = cells.get(old), cells.get(new)
        if after in BAD and before not in BAD:
            out.append(_reason("breaks", "verbs", f"{test}: {before or 'not run'} on {old}, "
                               f"{after} on {new}: {verbs['messages'].get(test, {}).get(new, '')}"))
        elif after in BAD:
            out.append(_reason("risk", "verbs", f"{test}: {after} on {new} as on {old}"))
        binary = cells.get(compat)
        if binary in BAD and after not in BAD:
            out.append(_reason("breaks", "applications",
                               f"{test}: built against {old}, {binary} on {new}'s libraries "
                               f"(rebuilt: {after})"))
    return out


def _perf_reasons(perf: list[dict]) -> list[dict]:
    out = []
    for series in perf:
        for point in series.get("points", []):
            if point.get("verdict") == "slower":
                low, high = point["ci"]
                out.append(_reason("slower", "performance",
                                   f"{series['title']} at {point['size']} B: "
                                   f"{point['ratio']:.2f}x the time on the new stack "
                                   f"(99% CI {low:.2f}-{high:.2f})"))
        for gap in series.get("unmeasured", []):
            out.append(_reason("untested", "performance",
                               f"{series['title']} at {gap['size']} B on {gap['stack']}: "
                               f"not measured: {gap['why']}"))
    return out


def _kabi_reasons(kabi: dict) -> list[dict]:
    """A given module that would not load on B breaks; without modules, how
    much of the RDMA kernel interface changed is a risk (rebuild them)."""
    if not kabi:
        return []
    out = []
    release = kabi["releases"][1]
    for module in kabi.get("modules", []):
        if not module["loads"]:
            out.append(_reason("breaks", "kernel modules",
                               f"{module['module']} ({module['path']}) would not load on "
                               f"{release}: {module['messages'][0] if module['messages'] else module['check']}"))
    for proof in kabi.get("proofs", []):
        if not proof["agrees"]:
            out.append(_reason("untested", "kernel modules",
                               f"{proof['module']}: the lab load on {release} disagrees with "
                               f"rdmagate's prediction ({'loaded' if proof['loaded'] else 'refused'}"
                               f": {(proof['kernel_lines'] or [proof['insmod']])[0]})"))
    changed = kabi["summary"]["by_kind"]
    broken = sum(n for k, n in changed.items() if k != "export added")
    kernel = [f["kind"] for f in kabi.get("kernel", []) if f["severity"] == "breaking"]
    if not kabi.get("given") and (broken or kernel):
        what = ", ".join(f"{n} {k}" for k, n in sorted(changed.items()) if k != "export added")
        out.append(_reason("risk", "kernel modules",
                           f"the RDMA kernel interface changes from {kabi['releases'][0]} to "
                           f"{release}: {what or 'no export'} of "
                           f"{kabi['summary']['exports_compared']} exports"
                           + (f"; {', '.join(kernel)}" if kernel else "")
                           + ": out-of-tree modules (vendor OFED drivers, Lustre o2ib, "
                           "GPUDirect, storage targets) must be rebuilt for it; name them "
                           "with --modules to check"))
    return out


def decide(data: dict) -> tuple[str, list[dict]]:
    old, new = data["from"]["name"], data["to"]["name"]
    reasons = []
    if data.get("api", {}).get("compiles") is False:
        reasons.append(_reason("breaks", "build", data["api"]["error"]))
    reasons += _abi_reasons(data.get("abi", {}), data.get("device_driver"))
    reasons += _kabi_reasons(data.get("kabi", {}))
    reasons += _verbs_reasons(data.get("verbs", {}), old, new, data.get("compat_column", ""))
    reasons += _perf_reasons(data.get("perf", []))
    for phase in data.get("phases", []):
        if phase["status"] != "done":
            reasons.append(_reason("untested", phase["name"],
                                   f"phase {phase['name']} {phase['status']}: {phase['note']}"))
    reasons.sort(key=lambda r: CATEGORIES.index(r["category"]))
    for rank, reason in enumerate(reasons, start=1):
        reason["rank"] = rank
    if any(r["category"] == "breaks" for r in reasons):
        return "NO-GO", reasons
    return ("GO WITH RISKS" if reasons else "GO"), reasons
