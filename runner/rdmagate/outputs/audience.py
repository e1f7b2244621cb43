"""An audience's verdict of an ABI comparison, as findings.json, run.json
and upgrade.json carry it (here, below abi/, so the output records need not
import the abi package that writes them)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class AudienceVerdict:
    verdict: str               # BREAKS, NEEDS REVIEW, OK
    counts: dict[str, int]     # findings per severity
