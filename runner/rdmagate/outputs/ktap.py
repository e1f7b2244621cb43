"""A small KTAP v1 reader: enough to follow a harness's progress live."""
import re
from dataclasses import dataclass, field

from ..outcomes import AS_EXPECTED, NAMES
from .result import Result

_SUBTEST = re.compile(r"^\s*# Subtest: (\S+)")
_PLAN = re.compile(r"^(\s*)1\.\.(\d+)")
_RESULT = re.compile(r"^(\s*)(ok|not ok) (\d+) (\S+)(?:\s+#\s*(\S+)(.*))?")


@dataclass
class SuiteProgress:
    name: str
    planned: int = 0
    done: int = 0
    by_outcome: dict = field(default_factory=dict)


@dataclass
class Event:
    kind: str  # "suite" (a suite started), "test" (a test ended), "suite_end"
    suite: SuiteProgress
    test: str = ""
    outcome: str = ""


class Reader:
    """Feed it lines; it returns what each line meant, None if nothing."""

    def __init__(self):
        self.suite: SuiteProgress | None = None

    def feed(self, line: str) -> Event | None:
        if match := _SUBTEST.match(line):
            self.suite = SuiteProgress(match.group(1))
            return Event("suite", self.suite)
        if self.suite is None:
            return None
        if (match := _PLAN.match(line)) and match.group(1):
            self.suite.planned = int(match.group(2))
            return None
        match = _RESULT.match(line)
        if not match:
            return None
        if not match.group(1):  # a top-level line closes the suite
            ended, self.suite = self.suite, None
            return Event("suite_end", ended)
        outcome = _outcome(match.group(2), match.group(5), match.group(6))
        self.suite.done += 1
        self.suite.by_outcome[outcome] = self.suite.by_outcome.get(outcome, 0) + 1
        return Event("test", self.suite, match.group(4), outcome)


def _outcome(status: str, directive: str | None, rest: str | None) -> str:
    """The rdmagate outcome a KTAP result line carries."""
    directive = (directive or "").upper()
    if directive == "SKIP":
        return "UNSUPPORTED" if (rest or "").strip().upper().startswith("UNSUPPORTED") else "SKIP"
    if directive in NAMES:   # TIMEOUT, CRASH, ERROR, XFAIL
        return directive
    return "PASS" if status == "ok" else "FAIL"


def document(suite: str, records: list[Result]) -> list[str]:
    """KTAP v1 for results the runner produced itself (the abi suite), in
    the harness's own spelling, so ktap.log reads the same for every suite."""
    lines = ["KTAP version 1", "1..1", "    KTAP version 1", f"    # Subtest: {suite}",
             f"    1..{len(records)}"]
    for number, record in enumerate(records, start=1):
        status = "ok" if record.outcome in AS_EXPECTED else "not ok"
        lines.append(f"    {status} {number} {record.name}")
        if record.message:
            lines.append(f"    # {record.name}: {record.message}")
    all_ok = all(r.outcome in AS_EXPECTED for r in records)
    lines.append(f"{'ok' if all_ok else 'not ok'} 1 {suite}")
    return lines
