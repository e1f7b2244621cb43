"""An audience's verdict of an ABI comparison, as findings.json, run.json
and upgrade.json carry it (here, below abi/, so the output records need not
import the abi package that writes them)."""
from dataclasses import dataclass
from typing import Literal, get_args

Verdict = Literal["BREAKS", "NEEDS REVIEW", "OK"]   # by the worst severity for it
AUDIENCE_VERDICTS = get_args(Verdict)


@dataclass(frozen=True)
class AudienceVerdict:
    verdict: Verdict
    counts: dict[str, int]     # findings per severity
