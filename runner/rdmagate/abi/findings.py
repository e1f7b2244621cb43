"""A finding: one ABI change between two stacks, with who it hurts."""
from dataclasses import asdict, dataclass

SEVERITIES = ("breaking", "review", "benign", "info")   # worst first
AUDIENCES = ("applications", "providers", "build")


@dataclass(frozen=True)
class Finding:
    library: str
    kind: str            # symbol removed, version node removed, private ABI changed, ...
    severity: str
    audience: str
    detail: str
    symbol: str = ""
    version: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def rank(finding: Finding) -> tuple:
    return (SEVERITIES.index(finding.severity), AUDIENCES.index(finding.audience),
            finding.library, finding.symbol)


def verdicts(findings: list[Finding]) -> dict[str, dict]:
    """Per audience: the worst severity and the count of each severity."""
    out = {}
    for audience in AUDIENCES:
        mine = [f for f in findings if f.audience == audience]
        counts = {s: sum(1 for f in mine if f.severity == s) for s in SEVERITIES}
        worst = next((s for s in SEVERITIES if counts[s]), None)
        verdict = {"breaking": "BREAKS", "review": "NEEDS REVIEW"}.get(worst, "OK")
        out[audience] = {"verdict": verdict, "counts": counts}
    return out
