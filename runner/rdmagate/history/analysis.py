"""What the runs kept say over time, per node, stack and profile (the same
test on another node or stack is another series):

- changed: the latest outcome differs from the one before (what changed
  since last night);
- flaky: the outcome went between as expected (PASS ...) and not (FAIL,
  TIMEOUT, CRASH) and back at least once, i.e. two flips or more;
- drift: a perf series whose values after some run are slower or faster
  than before by perf/stats' verdict, each check's value one run of a side
  (the run where it changed is named)."""
import math
import statistics
from dataclasses import dataclass

from ..errors import UsageError
from ..outcomes import AS_EXPECTED
from ..perf import stats

SERIES = ("node", "stack", "profile")


@dataclass
class Series:
    node: str
    stack: str
    profile: str
    name: str
    points: list      # (run_key, started, value): value an outcome or a number


def series(conn, table: str, since: str) -> list[Series]:
    column, value = ("test", "outcome") if table == "results" else ("name", "value")
    rows = conn.execute(
        f"SELECT t.node, t.stack, t.profile, t.{column}, r.run_key, r.started, t.{value} "
        f"FROM {table} t JOIN runs r ON r.id = t.run WHERE r.started >= ? "
        f"ORDER BY t.node, t.stack, t.profile, t.{column}, r.started, r.id", (since,))
    out: list[Series] = []
    for node, stack, profile, name, key, started, val in rows:
        if not out or (out[-1].node, out[-1].stack, out[-1].profile, out[-1].name) != \
                (node, stack, profile, name):
            out.append(Series(node, stack, profile, name, []))
        out[-1].points.append((key, started, val))
    return out


def ok(outcome: str) -> bool:
    return outcome in AS_EXPECTED


def flips(s: Series) -> int:
    oks = [ok(p[2]) for p in s.points]
    return sum(1 for a, b in zip(oks, oks[1:]) if a != b)


def flaky(all_series: list[Series]) -> list[Series]:
    return [s for s in all_series if flips(s) >= 2]


def changed(all_series: list[Series]) -> list[Series]:
    return [s for s in all_series if len(s.points) >= 2 and s.points[-1][2] != s.points[-2][2]]


@dataclass
class Drift:
    series: Series
    at: int           # index of the first point after the change
    before: float     # medians, as the report shows them
    after: float
    compared: stats.Comparison   # after against before

    @property
    def ratio(self) -> float:
        return self.compared.ratio


def drift(s: Series, threshold: float = 0.10, least: int = stats.MIN_RUNS) -> Drift | None:
    """The split of the series (least points each side) with the largest
    change that perf/stats calls slower or faster; None when no split does."""
    values = [p[2] for p in s.points]
    best = None
    for at in range(least, len(values) - least + 1):
        try:
            compared = stats.compare(values[:at], values[at:], threshold)
        except UsageError:   # a value that is no measurement (zero, negative)
            continue
        if compared.verdict not in ("slower", "faster"):
            continue
        size = abs(math.log(compared.ratio))
        if best is None or size > best[0]:
            best = (size, Drift(s, at, statistics.median(values[:at]),
                                statistics.median(values[at:]), compared))
    return best[1] if best else None


def drifts(all_series: list[Series], threshold: float = 0.10) -> list[Drift]:
    found = (drift(s, threshold) for s in all_series)
    return [d for d in found if d is not None]
