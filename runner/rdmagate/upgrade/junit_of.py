"""junit.xml of an upgrade gate, for CI systems: one test per phase, one
per cause of the verdict's reasons (failing when it breaks something here,
skipped when it could not be tested), and the verdict as a test that
fails on NO-GO."""
from pathlib import Path

from ..outputs import junit
from ..outputs.result import Result
from . import actions
from .record import Upgrade

OUTCOME = {"breaks": "FAIL", "untested": "SKIP"}   # a risk or a slower figure passes, said


def write(upgrade: Upgrade, path: Path) -> None:
    found = []
    for phase in upgrade.phases:
        outcome = {"done": "PASS", "failed": "ERROR"}.get(phase.status, "SKIP")
        found.append(Result(f"upgrade.{phase.name}", "upgrade", phase.name, outcome,
                            reason=phase.note, message=phase.note, duration_s=phase.seconds))
    for item in actions.why(upgrade):
        text = "\n".join([item.title, *item.consequences] + [r.text for r in item.reasons])
        found.append(Result(f"upgrade.cause.{item.key}", "upgrade", f"cause {item.key}",
                            OUTCOME.get(item.category, "PASS"),
                            reason=f"{item.category} for {item.audience}", message=text))
    breaks = [r.text for r in upgrade.reasons or [] if r.category == "breaks"]
    found.append(Result("upgrade.verdict", "upgrade", "verdict",
                        {"NO-GO": "FAIL", "NOT TESTED": "ERROR"}.get(upgrade.verdict or "", "PASS"),
                        reason=upgrade.verdict or "", message="\n".join(breaks)))
    junit.write(found, path)
