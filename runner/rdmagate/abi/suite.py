"""The abi suite of `check`: the stack's ABI against its closest reference,
written as result lines like every suite (one per audience)."""
import json
import time
from pathlib import Path

from ..stacks import kernel_stack, resolve
from . import suppress
from .compare import compare_stacks

AUDIENCE_TESTS = ("applications", "providers", "build")


def closest_reference(stack_name: str) -> str:
    """The recorded baseline to compare with: a Debian stack's own (does what
    was fetched match what was recorded?); for host and prefix stacks, that
    of the Debian release this host runs."""
    return kernel_stack(resolve(stack_name)).name


def run(stack_name: str, device: str, run_dir: Path, say=lambda text: None) -> list[dict]:
    reference = closest_reference(stack_name)
    started = time.monotonic()
    report = compare_stacks(reference, stack_name, [suppress.DEFAULT], say=say,
                            old_from_baseline=True)
    (run_dir / "findings.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    duration = time.monotonic() - started
    lines = []
    for audience in AUDIENCE_TESTS:
        verdict = report.verdicts[audience]
        worst = [f for f in report.findings if f.audience == audience and f.severity == "breaking"]
        outcome = "FAIL" if worst else "PASS"
        counts = ", ".join(f"{n} {s}" for s, n in verdict["counts"].items() if n) or "no changes"
        message = f"{reference} (baseline) -> {stack_name}: {verdict['verdict']} ({counts})"
        if worst:
            message += f"; first: {worst[0].library}: {worst[0].kind}: {worst[0].detail}"
        lines.append({"test": f"abi.{audience}", "suite": "abi", "name": audience,
                      "outcome": outcome, "raw_outcome": outcome, "expected": "PASS",
                      "reason": "" if outcome == "PASS" else f"breaks {audience}",
                      "message": message, "duration_s": round(duration, 3),
                      "stack": stack_name, "device": device})
    with (run_dir / "results.jsonl").open("a", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")
    return lines
