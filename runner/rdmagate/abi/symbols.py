"""Symbol-level ABI changes between two stack inventories.

The ELF tables are the ground truth here: what a binary imports is a
symbol@version, and the dynamic linker refuses to load it when the version
node or the symbol in it is gone. Public nodes (IBVERBS_1.x, RDMACM_1.x,
IBUMAD_1.x) are what applications import; IBVERBS_PRIVATE_NN binds a
provider to the exact libibverbs it was built with."""
from dataclasses import replace

from ..stacks import devices_table, glibc
from .findings import Finding

CHANGED_PRIVATE = "private ABI changed without a new version node"


def _pairs(exports: dict) -> set[tuple[str, str]]:
    return {(key.split("@", 1)[0], version) for key, version in exports.items()}


def _library(name: str, a: dict, b: dict) -> list[Finding]:
    found = []
    if a["soname"] != b["soname"]:
        found.append(Finding(name, "soname changed", "breaking", "applications",
                             f"{a['soname']} -> {b['soname']}: binaries linked against the old "
                             "soname do not find the new library"))
    for node in sorted(set(a["public_versions"]) - set(b["public_versions"])):
        found.append(Finding(name, "version node removed", "breaking", "applications",
                             f"every binary importing a symbol of {node} fails to load",
                             version=node))
    for node in sorted(set(b["public_versions"]) - set(a["public_versions"])):
        found.append(Finding(name, "version node added", "benign", "applications",
                             f"new interfaces in {node}", version=node))
    gone_nodes = set(a["public_versions"]) - set(b["public_versions"])
    old, new = _pairs(a["exports"]["public"]), _pairs(b["exports"]["public"])
    for symbol, version in sorted(old - new):
        if version in gone_nodes:
            continue  # said once, by its node
        found.append(Finding(name, "symbol removed", "breaking", "applications",
                             f"binaries importing {symbol}@{version} fail to load",
                             symbol, version))
    for symbol, version in sorted(new - old):
        if version in a["public_versions"]:
            # a node once released is a promise of its contents: a binary
            # built against the new library imports symbol@version, which the
            # older library's node lacks, and fails when the symbol is bound
            found.append(Finding(name, "symbol added to a released node", "review",
                                 "applications", f"{symbol}@{version}: {version} was already "
                                 f"released without it, so binaries built against the new "
                                 f"library fail on the old one with \"undefined symbol: "
                                 f"{symbol}, version {version}\"; a new symbol needs a new "
                                 "version node", symbol, version))
            continue
        found.append(Finding(name, "symbol added", "benign", "applications",
                             f"new: {symbol}@{version}", symbol, version))
    found += _private(name, a, b)
    if a["glibc_floor"] and b["glibc_floor"] and glibc.newer(b["glibc_floor"], a["glibc_floor"]):
        found.append(Finding(name, "C library floor raised", "review", "build",
                             f"needs glibc {b['glibc_floor']} (was {a['glibc_floor']}): it does "
                             "not load on systems with an older C library",
                             version=f"GLIBC_{b['glibc_floor']}"))
    return found


def _private(name: str, a: dict, b: dict) -> list[Finding]:
    old_nodes, new_nodes = set(a["private_versions"]), set(b["private_versions"])
    if old_nodes != new_nodes:
        before = ", ".join(sorted(old_nodes)) or "none"
        after = ", ".join(sorted(new_nodes)) or "none"
        return [Finding(name, "private ABI changed", "breaking", "providers",
                        f"{before} -> {after}: providers built for the old private ABI "
                        "(out-of-tree and vendor providers) no longer load; applications "
                        "are not affected unless they call a function of the old node",
                        version=after)]
    old, new = _pairs(a["exports"]["private"]), _pairs(b["exports"]["private"])
    found = [Finding(name, "private symbol removed", "breaking", "providers",
                     f"providers calling {s}@{v} no longer load, though the private ABI "
                     "number did not change", s, v) for s, v in sorted(old - new)]
    # rdma-core bumps the private node on any change, additions too
    # (Documentation/versioning.md), so that a provider and a libibverbs
    # of different builds refuse each other by the node's name
    found += [Finding(name, "private symbol added without a new version node", "review",
                      "providers", f"{s}@{v}: {v} was already released without it, so a "
                      "provider built against the new library that calls it fails on the old "
                      f"one with \"undefined symbol: {s}, version {v}\" instead of a missing "
                      "node; the addition needs a new IBVERBS_PRIVATE node", s, v)
              for s, v in sorted(new - old)]
    return found


def _providers(a: dict, b: dict) -> list[Finding]:
    if a["providers"] and not b["providers"] and b["libraries"].get("libibverbs"):
        # said once: a tree whose providers were not found (a layout not
        # recognised, an incomplete install) is not a removal of each one
        why = "; ".join(b.get("warnings") or []) or f"nothing in {b['provider_dir']}"
        return [Finding("providers", "no providers found", "breaking", "applications",
                        f"the new stack has a libibverbs but no provider ({why}): the "
                        f"{len(a['providers'])} providers of the old stack are not checked "
                        "and applications would find no device")]
    found = []
    if not a["providers"] and b["providers"] and a["libraries"].get("libibverbs"):
        # the other way round: what the old stack drove is not known (with
        # no provider on either side there is nothing to compare; the
        # trees' warnings say it)
        why = "; ".join(a.get("warnings") or []) or f"nothing in {a['provider_dir']}"
        found.append(Finding("providers", "no providers found", "review", "applications",
                             f"the old stack has a libibverbs but no provider ({why}): which "
                             "devices it drove is not known, so no provider removal can be seen"))
    for provider in sorted(set(a["providers"]) - set(b["providers"])):
        table = a["providers"][provider].get("devices")
        takers = devices_table.taken_over(table, {name: p.get("devices")
                                                  for name, p in b["providers"].items()})
        if takers:
            # rdma-core 37 dropped i40iw once irdma matched all of its devices
            found.append(Finding(f"provider {provider}", "provider replaced", "info",
                                 "applications", f"{provider} is gone, and the new stack's "
                                 f"{', '.join(takers)} matches every device it did "
                                 f"({devices_table.describe(table)}): those devices keep a "
                                 "userspace driver"))
            continue
        found.append(Finding(f"provider {provider}", "provider removed", "breaking",
                             "applications", f"devices driven by {provider} have no userspace "
                             "driver in the new stack: applications on them find no device"))
    for provider in sorted(set(b["providers"]) - set(a["providers"])):
        found.append(Finding(f"provider {provider}", "provider added", "info", "applications",
                             f"the new stack drives {provider} devices"))
    return found


def compare(a: dict, b: dict) -> list[Finding]:
    """Findings from inventory a (the stack in use) to b (its replacement)."""
    found = []
    for name in sorted(set(a["libraries"]) | set(b["libraries"])):
        old, new = a["libraries"].get(name), b["libraries"].get(name)
        if old and new:
            found += _library(name, old, new)
        elif old:
            found.append(Finding(name, "library removed", "breaking", "applications",
                                 f"{old['soname']} is not in the new stack"))
        elif new:
            found.append(Finding(name, "library added", "info", "applications",
                                 f"{new['soname']} is new"))
    return found + _providers(a, b)


def private_signatures(a: dict, b: dict, old: dict[str, str], new: dict[str, str],
                       source: str) -> list[Finding]:
    """A private function (IBVERBS_PRIVATE_NN) whose signature changed while
    its node stayed: every provider built for that node calls it the old way.
    rdma-core's rule is that such a change takes a new private node.
    old, new: symbol or symbol@version -> signature, from `source`."""
    liba, libb = a["libraries"].get("libibverbs"), b["libraries"].get("libibverbs")
    if not liba or not libb or set(liba["private_versions"]) != set(libb["private_versions"]):
        return []    # a new node: "private ABI changed" says it, and is the fix
    found = []
    for symbol, version in sorted(_pairs(liba["exports"]["private"]) &
                                  _pairs(libb["exports"]["private"])):
        before = old.get(f"{symbol}@{version}", old.get(symbol))
        after = new.get(f"{symbol}@{version}", new.get(symbol))
        if before and after and before != after:
            found.append(Finding("libibverbs", CHANGED_PRIVATE, "breaking", "providers",
                                 f"{symbol}@{version}: {before} -> {after} ({source}): providers "
                                 f"built for {version} call it the old way; the change needs a new "
                                 "IBVERBS_PRIVATE node", symbol, version))
    return found


PROVIDER_HEADER = "infiniband/driver.h"   # the providers' interface, never the applications'


def public_under_private(inv: dict, prototypes: dict) -> dict[str, str]:
    """Functions an application header declares (not driver.h, not inline)
    whose only definition is under a private node: symbol -> that node. An
    application calling one binds itself to the private node."""
    public = {key.split("@", 1)[0] for lib in inv["libraries"].values() if lib
              for key in lib["exports"]["public"]}
    found = {}
    for lib in (lib for lib in inv["libraries"].values() if lib):
        for symbol, version in _pairs(lib["exports"]["private"]):
            declared = prototypes.get(symbol)
            if declared and declared.inline is not True and symbol not in public and \
                    declared.header not in ("", PROVIDER_HEADER):
                found[symbol] = version
    return found


def public_api_under_private(a: dict, b: dict, old: dict, new: dict) -> list[Finding]:
    """A public declaration defined only under a private node is a defect when
    it appears; when its node is replaced, applications calling it no longer
    load. a, b: inventories; old, new: their public prototypes."""
    before, after = public_under_private(a, old), public_under_private(b, new)
    found = [Finding("libibverbs", "public function under a private node", "review",
                     "applications", f"{symbol} is declared in {new[symbol].header} but exported "
                     f"only as {symbol}@{version}: applications calling it are bound to the "
                     "private node and fail to load when it is replaced; it needs a public "
                     "version node", symbol, version)
             for symbol, version in sorted(after.items()) if symbol not in before]
    nodes = {v for lib in b["libraries"].values() if lib for v in lib["private_versions"]}
    found += [Finding("libibverbs", "public function's private node replaced", "breaking",
                      "applications", f"{symbol} is declared in {old[symbol].header} and was "
                      f"exported only as {symbol}@{version}, which the new stack does not have: "
                      f"applications calling it fail to load (version `{version}' not found)",
                      symbol, version)
              for symbol, version in sorted(before.items()) if version not in nodes]
    return found


def by_importer(found: list[Finding], prototypes: dict, new_prototypes: dict) -> list[Finding]:
    """A removed libibverbs symbol no application header declares (only
    driver.h, as legacy libibverbs's ibv_cmd_* helpers, or no header at all)
    is imported by providers, not applications; what driver.h declares
    (its types, its functions, the header itself) is the providers' to
    compile against. prototypes: the old stack's (the new one's for additions)."""
    out = []
    for f in found:
        declared = (new_prototypes if f.kind == "symbol added to a released node"
                    else prototypes).get(f.symbol)
        if f.library == PROVIDER_HEADER or (f.library == "headers" and declared and
                                            declared.header == PROVIDER_HEADER):
            f = replace(f, audience="providers")
        for_providers = f.library == "libibverbs" and \
            (declared is None or declared.header == PROVIDER_HEADER)
        if f.kind == "symbol added to a released node" and for_providers:
            # 1.1.8's ibv_cmd_create_flow@IBVERBS_1.0: its mlx4 fails on 1.1.4
            f = replace(f, audience="providers")
        if f.kind == "symbol removed" and for_providers:
            where = f"declared only in {PROVIDER_HEADER}" if declared else \
                "declared in no public header"
            f = Finding(f.library, "provider symbol removed", "breaking", "providers",
                        f"{f.symbol}@{f.version} is {where}: providers built against the old "
                        "stack import it and fail to load; applications do not call it",
                        f.symbol, f.version)
        out.append(f)
    return out
