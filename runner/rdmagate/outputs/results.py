"""Reading results.jsonl, including the one a killed harness left behind."""
import json
import sys
from collections import Counter
from pathlib import Path

from .. import files, outcomes
from ..errors import UsageError
from .result import Result


def read(path: Path, warn=lambda text: print(text, file=sys.stderr)) -> list[Result]:
    """Every finished result in the file, in order.

    A last line without its newline is a result the harness was writing when it
    died: it is dropped with a warning. Any other line that does not parse is
    corrupt data, never silently skipped."""
    if not path.exists():
        return []
    text = files.read_bytes(path, "a results file (results.jsonl)").decode("utf-8", "replace")
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline
    if torn:
        warn(f"rdmagate: warning: {path}: last line is incomplete (the harness was "
             "killed while writing it); ignored")
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise UsageError(f"{path}:{number}: not a JSON result line ({err.msg})") from None
        except RecursionError:
            raise UsageError(f"{path}:{number}: not a JSON result line (nested too "
                             "deeply)") from None
        found.append(Result.from_json(data, f"{path}:{number}"))
    return found


def counts(found: list[Result]) -> dict[str, int]:
    """Number of tests per outcome, every outcome present (zero if none)."""
    seen = Counter(result.outcome for result in found)
    return {outcome: seen.get(outcome, 0) for outcome in outcomes.NAMES}


def tally(found: list[Result]) -> str:
    """'3 pass, 1 skip': the outcomes that occurred, for a summary line."""
    return ", ".join(f"{n} {o.lower()}" for o, n in counts(found).items() if n)


def exit_code(found: list[Result]) -> int:
    """1 if anything ended unexpectedly, 3 if only infrastructure failed, else 0."""
    return outcomes.exit_code(result.outcome for result in found)
