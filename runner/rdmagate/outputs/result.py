"""One finished test: a line of results.jsonl.

The harness writes these lines in C (harness/src/results_jsonl.c, the same
keys in the same order); the runner's own suites (abi, perf) and an API break
write them through Result, and every reader gets Results back."""
import json
from dataclasses import dataclass

from .. import outcomes
from . import records
from ..errors import UsageError

REQUIRED = ("test", "suite", "name", "outcome")


@dataclass(frozen=True)
class Result:
    test: str                # <suite>.<name>
    suite: str
    name: str
    outcome: str             # final, after the plan's expectation was applied
    raw_outcome: str = ""    # what the test itself reported
    expected: str = "PASS"
    reason: str = ""         # why: the capability, the signal, the timeout
    message: str = ""        # for people: file:line: condition, the errno
    observed: str = ""       # what a test of bad input saw (errno, completion status)
    failure: str = ""        # a FAIL's message id: what failed without its values
    data_check: bool = False  # that failure is a data check (RG_EXPECT_DATA, rg_fail_data)
    duration_s: float = 0.0
    stack: str = ""
    device: str = ""
    signal: int | None = None   # CRASH only

    def __post_init__(self):
        for kind, value in (("outcome", self.outcome), ("raw_outcome", self.raw_outcome),
                            ("expected", self.expected)):
            if value not in outcomes.NAMES and (value or kind == "outcome"):
                raise ValueError(f"field {kind}: unknown outcome {value!r}")

    @property
    def why(self) -> str:
        """The message, else the reason: the one line to show for it."""
        return self.message or self.reason

    def to_json(self) -> dict:
        return records.to_json(self)

    def line(self) -> str:
        return json.dumps(self.to_json()) + "\n"

    @classmethod
    def from_json(cls, data, where: str) -> "Result":
        """From one parsed line; UsageError naming where (file:line) when bad."""
        missing = [key for key in REQUIRED if not isinstance(data, dict) or key not in data]
        if missing:
            raise UsageError(f"{where}: bad result line: missing {', '.join(missing)}")
        try:
            return records.from_json(cls, data)
        except records.Mismatch as err:
            raise UsageError(f"{where}: bad result line: {err}") from None


def append_results(found: list[Result], path) -> None:
    """Add the lines of the runner's own suites to a results.jsonl."""
    with path.open("a", encoding="utf-8") as out:
        for result in found:
            out.write(result.line())
