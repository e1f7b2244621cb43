"""The abi suite of `check`: the stack's ABI against its closest reference,
written as result lines like every suite (one per audience)."""
import time
from pathlib import Path

from ..outputs.result import append_results, Result
from ..stacks import kernel_stack, resolve
from . import findings, suppress
from .compare import compare_stacks

AUDIENCE_TESTS = ("applications", "providers", "build")


def closest_reference(stack_name: str) -> str:
    """The recorded baseline to compare with: a Debian stack's own (does what
    was fetched match what was recorded?); for host and prefix stacks, that
    of the Debian release this host runs."""
    return kernel_stack(resolve(stack_name)).name


def run(stack_name: str, device: str, run_dir: Path, say=lambda text: None) -> list[Result]:
    reference = closest_reference(stack_name)
    started = time.monotonic()
    report = compare_stacks(reference, stack_name, [suppress.DEFAULT], say=say,
                            old_from_baseline=True)
    findings.write(report.record(), run_dir / "findings.json")
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
        lines.append(Result(f"abi.{audience}", "abi", audience, outcome, raw_outcome=outcome,
                            reason="" if outcome == "PASS" else f"breaks {audience}",
                            message=message, duration_s=round(duration, 3),
                            stack=stack_name, device=device))
    append_results(lines, run_dir / "results.jsonl")
    return lines
