"""junit.xml of an upgrade gate, for CI systems: one test per phase, and
the verdict as a test that fails on NO-GO."""
from pathlib import Path

from .. import junit
from ..result import Result


def write(data: dict, path: Path) -> None:
    records = []
    for phase in data["phases"]:
        outcome = {"done": "PASS", "failed": "ERROR"}.get(phase["status"], "SKIP")
        records.append(Result(f"upgrade.{phase['name']}", "upgrade", phase["name"], outcome,
                              reason=phase["note"], message=phase["note"],
                              duration_s=phase["seconds"]))
    breaks = [r["text"] for r in data.get("reasons", []) if r["category"] == "breaks"]
    records.append(Result("upgrade.verdict", "upgrade", "verdict",
                          "FAIL" if data.get("verdict") == "NO-GO" else "PASS",
                          reason=data.get("verdict", ""), message="\n".join(breaks)))
    junit.write(records, path)
