"""What changes for out-of-tree modules between two kernels: per export
(removed, CRC changed, moved to another module, now GPL-only, namespace added
or changed; added is information) and for the kernel as a whole (symbol
versioning on or off, vermagic, the size of struct module, signature
enforcement). Findings have the shape of the userspace ABI diff's."""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..abi.findings import SEVERITIES, Finding, Severity, Who
from ..outputs.audience import AudienceVerdict, Verdict
from . import symvers

if TYPE_CHECKING:   # for the hints only: facts pulls in the stack fetchers
    from . import facts

AUDIENCE: Who = "kernel modules"


@dataclass
class KabiReport:
    old: "facts.KernelSide"
    new: "facts.KernelSide"
    area: str
    findings: list[Finding]
    modules: list = field(default_factory=list)     # predict.Prediction
    proofs: list = field(default_factory=list)      # lab.Proof

    @property
    def verdict(self) -> AudienceVerdict:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        worst = next((s for s in SEVERITIES if counts[s]), None)
        words: dict[str | None, Verdict] = {"breaking": "BREAKS", "review": "NEEDS REVIEW"}
        return AudienceVerdict(words.get(worst, "OK"), counts)

    def summary(self) -> dict:
        """How much of the interface changed: exports of the area per kind."""
        kinds: dict[str, int] = {}
        for f in self.findings:
            if f.symbol:
                kinds[f.kind] = kinds.get(f.kind, 0) + 1
        compared = len(symvers.area(self.old.exports, self.area))
        return {"exports_compared": compared, "by_kind": kinds}


def _finding(kind: str, severity: Severity, detail: str, library: str = "kernel",
             symbol: str = "") -> Finding:
    return Finding(library, kind, severity, AUDIENCE, detail, symbol)


def versioned(facts: dict) -> bool:
    return facts.get("config", {}).get("CONFIG_MODVERSIONS", "n") == "y"


def kernel_findings(old: dict, new: dict) -> list[Finding]:
    out = []
    if versioned(old) != versioned(new):
        state = "on" if versioned(new) else "off"
        out.append(_finding("symbol versions " + state, "review",
                            f"CONFIG_MODVERSIONS is {state} in {new['release']}"
                            + ("" if versioned(new) else ": the kernel checks no symbol CRC "
                               "at all, so a changed type behind an export goes unseen")))
    if old.get("vermagic") != new.get("vermagic"):
        out.append(_finding("vermagic changed", "breaking",
                            f"'{old.get('vermagic')}' -> '{new.get('vermagic')}': every "
                            "out-of-tree module must be rebuilt for the new kernel ABI"))
    if old.get("this_module_size") != new.get("this_module_size"):
        out.append(_finding("struct module size changed", "breaking",
                            f"{old.get('this_module_size')} -> {new.get('this_module_size')} "
                            "bytes (.gnu.linkonce.this_module)"))
    if old.get("module_layout_crc") and new.get("module_layout_crc") and \
            old["module_layout_crc"] != new["module_layout_crc"]:
        out.append(_finding("module_layout CRC changed", "breaking",
                            f"0x{old['module_layout_crc']:08x} -> "
                            f"0x{new['module_layout_crc']:08x}"))
    force = new.get("config", {}).get("CONFIG_MODULE_SIG_FORCE", "n") == "y"
    if force != (old.get("config", {}).get("CONFIG_MODULE_SIG_FORCE", "n") == "y"):
        out.append(_finding("signature enforcement " + ("on" if force else "off"),
                            "breaking" if force else "info",
                            "unsigned modules are refused" if force else
                            "unsigned modules load (and taint the kernel)"))
    return out


def symbol_findings(old: dict, new: dict, area: str, crcs_count: bool) -> list[Finding]:
    out = []
    for symbol, was in sorted(symvers.area(old, area).items()):
        now = new.get(symbol)
        lib = was.module_name
        if now is None:
            out.append(_finding("export removed", "breaking",
                                f"{symbol} is no longer exported ({was.module})", lib, symbol))
            continue
        if crcs_count and was.crc != now.crc and was.crc and now.crc:
            out.append(_finding("CRC changed", "breaking",
                                f"0x{was.crc:08x} -> 0x{now.crc:08x}: a module built against "
                                "the old one is refused", lib, symbol))
        if was.module != now.module:
            out.append(_finding("moved", "review", f"{was.module} -> {now.module}", lib, symbol))
        if now.gpl_only and not was.gpl_only:
            out.append(_finding("now GPL-only", "breaking",
                                f"{was.kind} -> {now.kind}: non-GPL modules lose it", lib, symbol))
        if now.namespace != was.namespace:
            out.append(_finding("namespace added" if not was.namespace else "namespace changed",
                                "breaking", f"{was.namespace or '(none)'} -> {now.namespace}: "
                                "modules must import the namespace", lib, symbol))
    for symbol, now in sorted(symvers.area(new, area).items()):
        if symbol not in old:
            out.append(_finding("export added", "info", f"new in {now.module}",
                                now.module_name, symbol))
    return out


def compare(old, new, area: str = "rdma") -> KabiReport:
    """old and new are facts.KernelSide; area rdma or all."""
    if area not in symvers.AREAS:
        raise ValueError(area)
    crcs_count = versioned(old.facts) and versioned(new.facts)
    findings = kernel_findings(old.facts, new.facts) + \
        symbol_findings(old.exports, new.exports, area, crcs_count)
    return KabiReport(old, new, area, findings)
