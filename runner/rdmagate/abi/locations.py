"""Where a header finding is declared: the line of its type, member or
enumerator in the header, from the DWARF rdmagate builds from the headers
(abidw's filepath and line attributes), for review tools that show a
finding on its line (SARIF)."""
import dataclasses

from .abixml import Corpus
from .findings import Finding


def locate(findings: list[Finding], old: Corpus, new: Corpus) -> list[Finding]:
    """findings with the line of each header finding's symbol: in the new
    headers, or in the old ones for what the new no longer declares."""
    out = []
    for finding in findings:
        line = 0
        if finding.library.endswith(".h") and finding.symbol and not finding.line:
            line = new.lines.get(finding.symbol, 0) or old.lines.get(finding.symbol, 0)
        out.append(dataclasses.replace(finding, line=line) if line else finding)
    return out
