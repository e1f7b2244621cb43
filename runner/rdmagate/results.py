"""Reading results.jsonl, including the one a killed harness left behind."""
import json
import sys
from collections import Counter
from pathlib import Path

from .errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED, UsageError

# XFAIL: a FAIL the profile expects (a known defect of that device and stack)
OUTCOMES = ("PASS", "FAIL", "UNSUPPORTED", "SKIP", "XFAIL", "TIMEOUT", "CRASH", "ERROR")
AS_EXPECTED = frozenset({"PASS", "UNSUPPORTED", "SKIP", "XFAIL"})
REQUIRED = ("test", "suite", "name", "outcome")


def read(path: Path, warn=lambda text: print(text, file=sys.stderr)) -> list[dict]:
    """Every finished result in the file, in order.

    A last line without its newline is a result the harness was writing when it
    died: it is dropped with a warning. Any other line that does not parse is
    corrupt data, never silently skipped."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline
    if torn:
        warn(f"rdmagate: warning: {path}: last line is incomplete (the harness was "
             "killed while writing it); ignored")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise UsageError(f"{path}:{number}: not a JSON result line ({err.msg})") from None
        missing = [key for key in REQUIRED if key not in record]
        if missing or record["outcome"] not in OUTCOMES:
            what = f"missing {', '.join(missing)}" if missing else f"unknown outcome {record['outcome']!r}"
            raise UsageError(f"{path}:{number}: bad result line: {what}")
        records.append(record)
    return records


def counts(records: list[dict]) -> dict[str, int]:
    """Number of tests per outcome, every outcome present (zero if none)."""
    seen = Counter(record["outcome"] for record in records)
    return {outcome: seen.get(outcome, 0) for outcome in OUTCOMES}


def exit_code(records: list[dict]) -> int:
    """1 if anything ended unexpectedly, 3 if only infrastructure failed, else 0."""
    outcomes = {record["outcome"] for record in records}
    if outcomes & {"FAIL", "TIMEOUT", "CRASH"}:
        return EXIT_UNEXPECTED
    if "ERROR" in outcomes:
        return EXIT_INFRA
    return EXIT_OK
