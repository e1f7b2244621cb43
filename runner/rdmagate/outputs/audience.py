"""An audience's verdict of an ABI comparison, as findings.json, run.json
and upgrade.json carry it (here, below abi/, so the output records need not
import the abi package that writes them)."""
from dataclasses import dataclass
from typing import Literal

AUDIENCE_VERDICTS = ("BREAKS", "NEEDS REVIEW", "OK")   # by the worst severity for it


@dataclass(frozen=True)
class AudienceVerdict:
    verdict: Literal[AUDIENCE_VERDICTS]
    counts: dict[str, int]     # findings per severity
