"""junit.xml of an upgrade gate, for CI systems: one test per phase, and
the verdict as a test that fails on NO-GO."""
from pathlib import Path

from .. import junit


def write(data: dict, path: Path) -> None:
    records = []
    for phase in data["phases"]:
        outcome = {"done": "PASS", "failed": "ERROR"}.get(phase["status"], "SKIP")
        records.append({"test": f"upgrade.{phase['name']}", "suite": "upgrade",
                        "name": phase["name"], "outcome": outcome, "reason": phase["note"],
                        "message": phase["note"], "duration_s": phase["seconds"]})
    breaks = [r["text"] for r in data.get("reasons", []) if r["category"] == "breaks"]
    records.append({"test": "upgrade.verdict", "suite": "upgrade", "name": "verdict",
                    "outcome": "FAIL" if data.get("verdict") == "NO-GO" else "PASS",
                    "reason": data.get("verdict", ""), "message": "\n".join(breaks),
                    "duration_s": 0})
    junit.write(records, path)
