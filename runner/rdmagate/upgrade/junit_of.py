"""junit.xml of an upgrade gate, for CI systems: one test per phase, and
the verdict as a test that fails on NO-GO."""
from pathlib import Path

from ..outputs import junit
from ..outputs.result import Result
from .record import Upgrade


def write(upgrade: Upgrade, path: Path) -> None:
    found = []
    for phase in upgrade.phases:
        outcome = {"done": "PASS", "failed": "ERROR"}.get(phase.status, "SKIP")
        found.append(Result(f"upgrade.{phase.name}", "upgrade", phase.name, outcome,
                            reason=phase.note, message=phase.note, duration_s=phase.seconds))
    breaks = [r.text for r in upgrade.reasons or [] if r.category == "breaks"]
    found.append(Result("upgrade.verdict", "upgrade", "verdict",
                        {"NO-GO": "FAIL", "NOT TESTED": "ERROR"}.get(upgrade.verdict or "", "PASS"),
                        reason=upgrade.verdict or "", message="\n".join(breaks)))
    junit.write(found, path)
